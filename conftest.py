"""Test set-up for the unit tests and the chapters run under nbval (pytest collects both)."""

from scripts.offline import prepare_offline_environment
from tests import nbval_tolerance


def pytest_configure(config):
    # Before any kernel starts: the notebooks inherit this environment.
    prepare_offline_environment()
    # Cells tagged nbval-tolerance compare their numbers within a tolerance (tests/nbval_tolerance.py).
    nbval_tolerance.install()
