"""What a training run is: its settings (:class:`TrainConfig`) and its record (:class:`History`).

Kept apart from the loop (:mod:`shared.training`) and from checkpoints
(:mod:`shared.checkpoints`) so that both can import them without importing each other.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from shared import SEED
from shared.validate import check_bool, check_int, check_number, check_type

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

    def __post_init__(self) -> None:
        for name, minimum in (("steps", 1), ("batch_size", 1), ("warmup_steps", 0), ("eval_every", 1),
                              ("eval_stride", 1), ("eval_batch_size", 1)):
            check_int(getattr(self, name), name, minimum=minimum)
        check_int(self.seed, "seed")
        check_number(self.lr, "lr", 0.0, low_open=True)
        for name in ("min_lr", "weight_decay"):
            check_number(getattr(self, name), name, 0.0)
        check_bool(self.decay_embeddings, "decay_embeddings")
        if not isinstance(self.betas, (tuple, list)) or len(self.betas) != 2:
            raise ValueError(f"betas must be a pair of numbers such as (0.9, 0.95), got {self.betas!r}")
        for beta in self.betas:
            check_number(beta, "betas", 0.0, 1.0, high_open=True)
        object.__setattr__(self, "betas", tuple(self.betas))
        if self.grad_clip is not None:
            check_number(self.grad_clip, "grad_clip", 0.0, low_open=True, fix="or None for no clipping")
        if self.full_eval_every is not None:
            check_int(self.full_eval_every, "full_eval_every", minimum=1, fix="or None")
        check_number(self.label_smoothing, "label_smoothing", 0.0, 1.0, high_open=True)
        if self.ema_decay is not None:
            check_number(self.ema_decay, "ema_decay", 0.0, 1.0, fix="or None for no average")
        check_type(self.device, "device", (str, type(None)), fix="such as 'cpu' or 'cuda', or None for the fastest")

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
