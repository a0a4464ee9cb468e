"""Test set-up for the unit tests and the chapters run under nbval (pytest collects both)."""

from scripts.offline import prepare_offline_environment
from tests import nbval_tolerance

# The longest test units first. `make test` runs pytest-xdist with `--dist loadscope`: each
# notebook or test file goes whole to the next free worker, in collection order. Started
# first, the long chapters run side by side, and the many short files fill the gaps at the
# end, so neither worker waits long for the other (longest-first scheduling). The order
# comes from measured run times on 2 cores, longest first; anything not named keeps its
# place after these. Only the order changes, never what runs.
LONGEST_FIRST = (
    "chapters/07_training.ipynb",
    "chapters/09_gpt2.ipynb",
    "chapters/05_causal_mask.ipynb",
    "tests/test_browser.py",
    "chapters/10_scaling_up.ipynb",
    "chapters/08_generation.ipynb",
    "tests/test_pdf.py",
    "tests/test_distributed.py",
    "chapters/04_attention_scores.ipynb",
    "chapters/06_multi_head_attention_and_block.ipynb",
    "chapters/01_text_to_tokens.ipynb",
    "chapters/03_positional_encoding.ipynb",
    "chapters/02_embeddings.ipynb",
    "tests/test_variants.py",
)


def pytest_configure(config):
    # Before any kernel starts: the notebooks inherit this environment.
    prepare_offline_environment()
    # Cells tagged nbval-tolerance compare their numbers within a tolerance (tests/nbval_tolerance.py).
    nbval_tolerance.install()


def pytest_collection_modifyitems(session, config, items):
    """Put the units of :data:`LONGEST_FIRST` first, in that order; a unit's own items keep theirs."""
    rank = {unit: i for i, unit in enumerate(LONGEST_FIRST)}

    def unit_rank(item) -> int:
        path = item.nodeid.split("::", 1)[0]  # a notebook, or a test file
        return rank.get(path, len(rank))

    items.sort(key=unit_rank)  # stable: within a unit, and among the rest, the order is pytest's
