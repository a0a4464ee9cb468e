"""What a training run is: its settings (:class:`TrainConfig`) and its record (:class:`History`).

Kept apart from the loop (:mod:`shared.training`) and from checkpoints
(:mod:`shared.checkpoints`) so that both can import them without importing each other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from shared import SEED

__all__ = ["TrainConfig", "History"]


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of a training run (the defaults are the book model's recipe).

    Frozen: make a variant with ``dataclasses.replace(cfg, steps=2000)``."""

    steps: int = 1000  # optimizer updates
    batch_size: int = 64  # windows per batch (B)
    lr: float = 3e-3  # peak learning rate, reached at the end of the warm-up
    min_lr: float = 3e-4  # learning rate at the end of the cosine decay
    warmup_steps: int = 100  # linear warm-up from lr / warmup_steps to lr
    weight_decay: float = 0.1  # AdamW decay, applied to weight matrices only
    decay_embeddings: bool = False  # also decay the embedding tables (nanoGPT does; Chapter 7 measures it)
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float | None = 1.0  # clip the global gradient norm to this (None: no clipping)
    eval_every: int = 200  # evaluate on the validation split every this many steps (and at the end)
    eval_stride: int = 1  # 1: every window (the protocol); context_length: non-overlapping windows
    full_eval_every: int | None = None  # also evaluate with stride 1 every this many steps (and at the end)
    eval_batch_size: int = 256
    seed: int = SEED  # seeds the batch sampler (seed the model's initialisation yourself)
    label_smoothing: float = 0.0  # train towards (1 - this) on the target, the rest spread evenly
    ema_decay: float | None = None  # keep and evaluate an exponential moving average of the weights
    device: str | None = None  # None: get_device()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass
class History:
    """What happened during training, one entry per evaluation.

    ``train_loss[i]`` is the mean training loss over the steps since the previous
    evaluation (a cheap, stable estimate: no extra forward passes); ``val_loss[i]`` is
    :func:`evaluate` on the validation split after ``step[i]`` updates;
    ``train_seconds[i]`` is the training time so far, evaluation time excluded.
    ``step_loss`` holds the loss of every single batch. When ``full_eval_every`` is set,
    ``full_val_loss[i]`` is the full protocol (stride 1) after ``full_step[i]`` updates.
    ``score[i]``: the ``score`` function given to :func:`~shared.training.train`, if any, at ``step[i]``.
    """

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    full_step: list[int] = field(default_factory=list)
    full_val_loss: list[float] = field(default_factory=list)
    score: list[float] = field(default_factory=list)

    @property
    def best_val(self) -> float:
        return min(self.val_loss) if self.val_loss else math.inf

    @property
    def best_step(self) -> int | None:
        return self.step[self.val_loss.index(self.best_val)] if self.val_loss else None

    def to_dict(self) -> dict:
        return asdict(self)
