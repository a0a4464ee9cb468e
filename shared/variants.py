"""Chapter 7's measurements: variants of the book model, each trained by the book's recipe.

    train_variant("8 blocks", steps=300)                     # one variant, in this process
    train_variants(["book model", "8 blocks"], steps=300)    # several at once, a process each

Each variant changes one thing about the book model (its ``GPTConfig``, then its
``TrainConfig``) and keeps everything else, seeds and batches included, so that the
difference in validation loss is that change's alone. Three seeds of the book model itself
measure the noise. The ``context ...`` variants change the context length and keep the
tokens per step (``batch_size * context_length = 1,024``), so each sees the same amount of
text: they measure what attention over a longer window buys.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace

from shared import SEED
from shared.book import BOOK_TRAIN, load_book_data, train_book_model
from shared.training import evaluate

__all__ = ["VARIANTS", "SEEDS", "WINNER_SEEDS", "CONTEXTS", "train_variant", "train_variants"]

#: The book model with one setting changed: (changes to its GPTConfig, changes to its TrainConfig).
_UNTIED_NO_DROPOUT = {"tie_weights": False, "dropout": 0.0}
VARIANTS: dict[str, tuple[dict, dict]] = {
    "book model": ({}, {}),
    "8 blocks": ({"n_layers": 8}, {}),
    "sinusoidal positions": ({"pos_embedding": "sinusoidal"}, {}),
    "untied output layer": ({"tie_weights": False}, {}),
    "no dropout": ({"dropout": 0.0}, {}),
    "label smoothing 0.1": ({}, {"label_smoothing": 0.1}),
    "weight average (EMA 0.99)": ({}, {"ema_decay": 0.99}),
    "decay the embeddings too": ({}, {"decay_embeddings": True}),
    "untied and no dropout": (_UNTIED_NO_DROPOUT, {}),
    "book model, another seed": ({}, {"seed": SEED + 1}),
    "book model, a third seed": ({}, {"seed": SEED + 2}),
    "untied and no dropout, another seed": (_UNTIED_NO_DROPOUT, {"seed": SEED + 1}),
    "untied and no dropout, a third seed": (_UNTIED_NO_DROPOUT, {"seed": SEED + 2}),
}
TOKENS_PER_STEP = BOOK_TRAIN.batch_size * 16  # the book model's B * T
for _t in (1, 4, 64):
    VARIANTS[f"context {_t}"] = ({"context_length": _t}, {"batch_size": TOKENS_PER_STEP // _t})

#: The most worker processes :func:`train_variants` starts unless told otherwise (about 0.4 GB each).
MAX_WORKERS = 8
#: The three runs of the book model that differ only in their seed.
SEEDS = ("book model", "book model, another seed", "book model, a third seed")
#: The same three seeds of the short run's winner, which Chapter 7 trains again at full length.
WINNER_SEEDS = ("untied and no dropout", "untied and no dropout, another seed", "untied and no dropout, a third seed")
#: Context length -> the variant that trains it (16 is the book model's own).
CONTEXTS = {1: "context 1", 4: "context 4", 16: "book model", 64: "context 64"}


def train_variant(name: str, steps: int | None = None) -> dict:
    """Train one of :data:`VARIANTS` (for ``steps`` updates, default the book's) with one
    thread; return its full-protocol validation loss, the same loss on training text, its
    size and its training time in CPU seconds (the process's, so a busy machine slows the
    clock on the wall but not this one)."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of shared.variants.VARIANTS ({', '.join(VARIANTS)}), got {name!r}")
    if steps is not None and (not isinstance(steps, int) or steps < 1):
        raise ValueError(f"steps must be a positive whole number of updates (or None for the book's), got {steps!r}")
    model_changes, train_changes = VARIANTS[name]
    cfg = replace(BOOK_TRAIN, **train_changes)
    steps = cfg.steps if steps is None else steps
    cfg = replace(cfg, steps=steps, warmup_steps=min(cfg.warmup_steps, steps // 10), eval_every=steps,
                  full_eval_every=steps, device="cpu")
    model, vocab, history = train_book_model(progress=False, cfg=cfg, clock=time.process_time, **model_changes)
    _, train_data, val_data = load_book_data()
    # How closely it fits its training text: the same measure on the first stretch of training
    # tokens, as long as the validation split, in eval mode (dropout off).
    fit = evaluate(model, train_data[:len(val_data)], model.cfg.context_length, vocab=vocab)
    return {"variant": name, "val loss": history.full_val_loss[-1], "train text loss": fit,
            "CPU seconds": history.train_seconds[-1], "CPU ms/step": 1000 * history.train_seconds[-1] / steps,
            "parameters": model.num_params()}


def train_variants(names: list[str], steps: int | None = None, workers: int | None = None,
                   progress: bool = True) -> list[dict]:
    """:func:`train_variant` for each name, ``workers`` at a time (default: one per CPU core, at
    most :data:`MAX_WORKERS`, since each process holds its own copy of PyTorch and the data),
    each in a process of its own with one thread; the results come in the order of ``names``.

    A variant's result does not depend on where it ran: it is seeded, single-threaded and
    alone in its process, so the numbers are those of one run after another, only sooner.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from tqdm.auto import tqdm

    unknown = [name for name in names if name not in VARIANTS]
    if unknown or not names:
        raise ValueError(f"names must be a non-empty list from shared.variants.VARIANTS, got {unknown or names}")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive whole number (or None: one per CPU core), got {workers!r}")
    workers = min(len(names), workers or min(os.cpu_count() or 1, MAX_WORKERS))
    bar = tqdm(total=len(names), desc="variants", disable=not progress)
    # "spawn": a fresh interpreter per worker, the same on Linux, macOS and Windows, and safe
    # from a Jupyter kernel, whose threads a fork would copy half-way.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(train_variant, name, steps) for name in names]
        for _ in as_completed(futures):
            bar.update()
    bar.close()
    return [future.result() for future in futures]
