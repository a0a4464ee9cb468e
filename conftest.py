"""Test set-up shared by the unit tests and the notebooks run under nbval."""

from tests.offline import prepare_offline_environment


def pytest_configure(config):
    # Before any kernel starts: the notebooks inherit this environment.
    prepare_offline_environment()
