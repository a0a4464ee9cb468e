"""Test set-up for the unit tests and the chapters run under nbval (pytest collects both)."""

from tests.offline import prepare_offline_environment


def pytest_configure(config):
    # Before any kernel starts: the notebooks inherit this environment.
    prepare_offline_environment()
