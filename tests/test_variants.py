"""shared.variants: Chapter 7's variants, alone or several at once in worker processes."""

from __future__ import annotations

import pytest

from shared import SEED, variants
from shared.book import BOOK_TRAIN


def test_variants_trained_in_worker_processes_equal_those_trained_here():
    """train_variants (Chapter 7's comparison, one process per variant) changes only when, not what."""
    there = variants.train_variants(["book model", "book model, another seed"], steps=3, workers=2, progress=False)
    here = variants.train_variant("book model, another seed", steps=3)
    assert [r["variant"] for r in there] == ["book model", "book model, another seed"]
    assert here["val loss"] == there[1]["val loss"] and here["train text loss"] == there[1]["train text loss"]
    assert there[0]["val loss"] != there[1]["val loss"]  # two seeds, two models


@pytest.mark.parametrize(("names", "workers", "says"), [(["no such variant"], None, "VARIANTS"),
                                                          (["book model"], -1, "workers")])
def test_train_variants_refuses_bad_arguments(names, workers, says):
    with pytest.raises(ValueError, match=says):
        variants.train_variants(names, steps=1, workers=workers, progress=False)


def test_the_context_variants_keep_the_tokens_per_step():
    for t, name in variants.CONTEXTS.items():
        model_changes, train_changes = variants.VARIANTS[name]
        assert model_changes.get("context_length", 16) == t
        assert train_changes.get("batch_size", BOOK_TRAIN.batch_size) * t == BOOK_TRAIN.batch_size * 16
    assert all(variants.VARIANTS[name][0] == {} for name in variants.SEEDS)


def test_the_seed_runs_change_only_the_seed():
    for runs in (variants.SEEDS, variants.WINNER_SEEDS):
        (model, train), *others = (variants.VARIANTS[name] for name in runs)
        assert all(m == model and {k: v for k, v in t.items() if k != "seed"} == train for m, t in others)
        assert len({t.get("seed", SEED) for _, t in (variants.VARIANTS[name] for name in runs)}) == 3


def test_train_variant_refuses_a_bad_step_count():
    with pytest.raises(ValueError, match="steps"):
        variants.train_variant("book model", steps=0)
