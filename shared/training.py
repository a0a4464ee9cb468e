"""Training the model, as built in Chapter 7: the loop, its schedule and its optimizer.

    cfg = TrainConfig(steps=1500)
    history = train(model, train_data, val_data, cfg)     # AdamW, warm-up + cosine, clipping
    evaluate(model, val_data, context_length=16)          # the validation protocol

The settings and the record of a run (``TrainConfig``, ``History``) are in
:mod:`shared.runs`; scoring (``evaluate``, ``bits_per_byte``) in :mod:`shared.evaluation`;
checkpoints (``save_checkpoint``, ``load_checkpoint``) in :mod:`shared.checkpoints`. All
of them are also importable from here. The book model's own recipe, and the trained
weights that ship with the book, are in :mod:`shared.book`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from shared.checkpoints import CheckpointError, config_differences, load_checkpoint, save_checkpoint
from shared.data import CompactVocab, get_batch
from shared.evaluation import bits_per_byte, evaluate
from shared.model import GPT
from shared.runs import History, TrainConfig
from shared.validate import as_token_ids, check_bool, check_type

__all__ = [
    "TrainConfig",
    "History",
    "CheckpointError",
    "get_device",
    "lr_at",
    "make_optimizer",
    "evaluate",
    "bits_per_byte",
    "train",
    "save_checkpoint",
    "load_checkpoint",
]


def get_device() -> torch.device:
    """The fastest device available: a CUDA GPU, Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The learning rate for update ``step`` (0-based): linear warm-up, then cosine decay.

    Rises linearly from ``lr / warmup_steps`` to ``lr`` over the first ``warmup_steps``
    updates, then follows half a cosine from ``lr`` down to ``min_lr`` at the last update.
    """
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    decay_steps = max(1, cfg.steps - 1 - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / decay_steps)
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on the weight matrices only.

    Biases and LayerNorm gains are never decayed: they set offsets and scales, and
    pulling them towards zero does not make the model simpler. The embedding tables
    (the token embedding is also the output layer when weights are tied) are decayed
    only with ``cfg.decay_embeddings``: choices differ here (nanoGPT decays them,
    GPT-2-style recipes often do not), and Chapter 7 measures both on the book model.
    """
    embeddings = set() if cfg.decay_embeddings else {
        id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            is_matrix = isinstance(module, (nn.Linear, nn.Embedding)) and name == "weight"
            (decay if is_matrix and id(p) not in embeddings else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas))


def train(
    model: GPT,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    cfg: TrainConfig,
    callback: Callable[[History], bool | None] | None = None,
    progress: bool = True,
    *,
    resume: str | os.PathLike | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    vocab: CompactVocab | None = None,
    clock: Callable[[], float] = time.perf_counter,
    score: Callable[[nn.Module], float] | None = None,
) -> History:
    """Train ``model`` for ``cfg.steps`` updates of AdamW on random batches of ``train_data``.

    Every ``cfg.eval_every`` updates, and after the last one, the model is evaluated
    on ``val_data`` (:func:`evaluate`), the result appended to the returned
    :class:`History`, and ``callback(history)`` called (to draw a live plot, say);
    if the callback returns ``True``, training stops there (early stopping).

    ``checkpoint_path``: save a checkpoint there after each evaluation (with the
    optimizer and random-number states). ``resume``: continue from such a checkpoint,
    exactly where it stopped: the result is the same as one uninterrupted run. The
    checkpoint must have been saved with the same ``cfg`` (the schedule depends on it):
    a different one is refused with :class:`CheckpointError`.

    ``vocab``: the model's vocabulary. When it has a shared ``<unk>`` output, the
    validation loss is scored over all of GPT-2's ids through it (see :func:`evaluate`).
    ``clock``: what ``History.train_seconds`` is measured with (``time.process_time``
    counts this process's CPU time, which another program on the machine does not inflate).
    ``score``: one more measure, called with the evaluated model (the weight average with
    ``cfg.ema_decay``) at each evaluation and appended to ``History.score`` (bits per byte, say).

    Two regularisers for small corpora, both off by default. ``cfg.label_smoothing``
    trains towards a target that keeps a little probability for every token, as in
    Szegedy et al. (2016); the validation loss stays plain cross-entropy.
    ``cfg.ema_decay`` keeps an exponential moving average of the weights
    (``torch.optim.swa_utils.AveragedModel``), evaluates the average, and copies it
    into ``model`` at the end (not combinable with checkpoints or resuming).
    """
    from tqdm.auto import tqdm

    train_data, val_data = _check_train_args(model, train_data, val_data, cfg, callback, progress, vocab)
    if cfg.ema_decay is not None and (resume is not None or checkpoint_path is not None):
        raise ValueError("ema_decay cannot be combined with checkpoints or resuming: "
                         "the averaged weights are not saved; set ema_decay=None")
    device = torch.device(cfg.device) if cfg.device else get_device()
    model.to(device).train()
    optimizer = make_optimizer(model, cfg)
    average = _make_average(model, cfg.ema_decay)
    generator = torch.Generator().manual_seed(cfg.seed)  # batches; dropout uses the global RNG
    history, start = History(), 0
    if resume is not None:
        history, start = _resume(resume, model, optimizer, generator, cfg, device)
    elapsed = history.train_seconds[-1] if history.train_seconds else 0.0
    since_eval: list[float] = []
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress,
               desc="training", unit="step")
    tick = clock()
    for step in bar:
        since_eval.append(_update(model, optimizer, average, train_data, generator, step, cfg, device))
        done = step + 1
        if done % cfg.eval_every and done != cfg.steps:
            continue
        elapsed += clock() - tick
        evaluated = model if average is None else average.module
        _record(history, evaluated, val_data, since_eval, done, lr_at(step, cfg), elapsed, cfg, device, vocab)
        if score is not None:
            history.score.append(score(evaluated))
        since_eval = []
        bar.set_postfix(train=f"{history.train_loss[-1]:.3f}", val=f"{history.val_loss[-1]:.3f}")
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, step=done, vocab=vocab, optimizer=optimizer,
                            history=history, train_config=cfg, rng=_rng_state(generator, device))
        if callback is not None and callback(history):
            break  # the callback asked to stop (early stopping)
        tick = clock()
    bar.close()
    if average is not None:
        model.load_state_dict(average.module.state_dict())
    return history


def _check_train_args(model, train_data, val_data, cfg, callback, progress, vocab) -> tuple[torch.Tensor, ...]:
    """Check :func:`train`'s arguments before the first step; return the two splits as tensors."""
    check_type(model, "model", GPT, fix="build it with GPT(GPTConfig(...))")
    check_type(cfg, "cfg", TrainConfig, fix="build it with TrainConfig(steps=..., ...)")
    check_type(vocab, "vocab", (CompactVocab, type(None)), fix="pass the model's CompactVocab, or None")
    if vocab is not None and len(vocab) != model.cfg.vocab_size:
        raise ValueError(f"vocab has {len(vocab)} ids but the model has vocab_size={model.cfg.vocab_size}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be None or a function callback(history), got {type(callback).__name__}")
    check_bool(progress, "progress")
    splits = []
    for name, data in (("train_data", train_data), ("val_data", val_data)):
        data = as_token_ids(data, name, model.cfg.vocab_size)
        if len(data) <= model.cfg.context_length:
            raise ValueError(f"{name} must hold more than context_length={model.cfg.context_length} "
                             f"tokens, got {len(data)}")
        splits.append(data)
    return tuple(splits)


def _make_average(model: nn.Module, decay: float | None) -> nn.Module | None:
    """An exponential moving average of ``model``'s weights, or None when ``decay`` is None."""
    if decay is None:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))


def _update(model: GPT, optimizer: torch.optim.Optimizer, average: nn.Module | None,
            train_data: torch.Tensor, generator: torch.Generator, step: int, cfg: TrainConfig,
            device: torch.device) -> float:
    """One optimizer update on a fresh random batch; return the batch's training loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step, cfg)
    x, y = get_batch(train_data, cfg.batch_size, model.cfg.context_length, generator, device)
    if cfg.label_smoothing:
        logits, _ = model(x)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten(), label_smoothing=cfg.label_smoothing)
    else:
        _, loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if cfg.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    optimizer.step()
    if average is not None:
        average.update_parameters(model)
    return loss.item()


def _record(history: History, model: nn.Module, val_data: torch.Tensor, since_eval: list[float],
            done: int, lr: float, clock: float, cfg: TrainConfig, device: torch.device,
            vocab: CompactVocab | None) -> None:
    """Evaluate ``model`` and append one entry to ``history`` (and to its full-protocol
    entries when this is one of their steps)."""
    T = model.cfg.context_length
    history.step.append(done)
    history.train_loss.append(sum(since_eval) / len(since_eval))
    history.val_loss.append(evaluate(model, val_data, T, cfg.eval_batch_size, cfg.eval_stride, device, vocab=vocab))
    if cfg.full_eval_every is not None and (done % cfg.full_eval_every == 0 or done == cfg.steps):
        history.full_step.append(done)
        history.full_val_loss.append(history.val_loss[-1] if cfg.eval_stride == 1 else
                                     evaluate(model, val_data, T, cfg.eval_batch_size, 1, device, vocab=vocab))
    history.lr.append(lr)
    history.train_seconds.append(clock)
    history.step_loss.extend(since_eval)


def _rng_state(generator: torch.Generator, device: torch.device) -> dict:
    """Every random-number state a resumed run needs to continue exactly."""
    return {"batches": generator.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def _resume(path: str | os.PathLike, model: GPT, optimizer: torch.optim.Optimizer,
            generator: torch.Generator, cfg: TrainConfig, device: torch.device) -> tuple[History, int]:
    """Load a checkpoint saved by :func:`train` into ``model``, ``optimizer`` and the RNGs;
    return the history so far and the number of updates already done."""
    _, info = load_checkpoint(path, model, optimizer=optimizer)
    saved = info.get("train_config")
    if saved is None:
        raise CheckpointError(f"{path} holds no training configuration, so it cannot be resumed")
    diff = config_differences(saved, cfg.to_dict(), ignore=("device",))
    if diff:
        raise CheckpointError(
            f"{path} was saved by a run with other settings, and resuming would change that run: "
            + "; ".join(diff) + ". Resume with the checkpoint's settings, or start a new run."
        )
    if info.get("rng"):
        generator.set_state(info["rng"]["batches"])
        torch.set_rng_state(info["rng"]["torch"])
        if info["rng"].get("cuda") is not None and device.type == "cuda":
            torch.cuda.set_rng_state(info["rng"]["cuda"], device)
    return (History(**info["history"]) if info.get("history") else History()), info["step"]
