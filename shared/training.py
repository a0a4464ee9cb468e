"""Training the model, as built in Chapter 7: the loop, evaluation, checkpoints.

    cfg = TrainConfig(steps=1500)
    history = train(model, train_data, val_data, cfg)     # AdamW, warm-up + cosine, clipping
    evaluate(model, val_data, context_length=16)          # the validation protocol below
    save_checkpoint("run.pt", model, step=cfg.steps, vocab=vocab)
    model, info = load_checkpoint("run.pt", None)

    model, vocab = load_or_train_book_model()              # Chapters 8 and 9 start here

**Validation protocol.** The validation split is the last 10% of the corpus's tokens
(``shared.data.train_val_split(tokens, 0.1)``). The validation loss is the mean
next-token cross-entropy over *every* window of ``context_length`` tokens: windows
start at positions ``0, 1, 2, ..., len(val) - context_length - 1`` (stride 1), and
each window contributes its ``context_length`` predictions (the token after its
first token, after its first two tokens, ...). Every prediction counts equally, so
a token is predicted once with each amount of context from 1 to ``context_length``
tokens. ``evaluate(..., stride=context_length)`` gives the cheaper estimate over
non-overlapping windows, where each target is counted once.
"""

from __future__ import annotations

import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from shared import set_seed
from shared.data import CompactVocab, cache_dir, encode, get_batch, load_corpus, train_val_split
from shared.model import GPT, GPTConfig

__all__ = [
    "TrainConfig",
    "History",
    "CheckpointError",
    "get_device",
    "lr_at",
    "make_optimizer",
    "evaluate",
    "train",
    "save_checkpoint",
    "load_checkpoint",
    "load_book_data",
    "book_model_config",
    "BOOK_TRAIN",
    "BOOK_MODEL_PATH",
    "train_book_model",
    "load_or_train_book_model",
]


@dataclass
class TrainConfig:
    """Every setting of a training run (the defaults are the book model's recipe)."""

    steps: int = 1000  # optimizer updates
    batch_size: int = 64  # windows per batch (B)
    lr: float = 3e-3  # peak learning rate, reached at the end of the warm-up
    min_lr: float = 3e-4  # learning rate at the end of the cosine decay
    warmup_steps: int = 100  # linear warm-up from lr / warmup_steps to lr
    weight_decay: float = 0.1  # AdamW decay, applied to weight matrices only
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float | None = 1.0  # clip the global gradient norm to this (None: no clipping)
    eval_every: int = 200  # evaluate on the validation split every this many steps (and at the end)
    eval_stride: int = 1  # 1: every window (the protocol); context_length: non-overlapping windows
    eval_batch_size: int = 256
    seed: int = 1337  # seeds the batch sampler (seed the model's initialisation yourself)
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
    ``step_loss`` holds the loss of every single batch.
    """

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)

    @property
    def best_val(self) -> float:
        return min(self.val_loss) if self.val_loss else math.inf

    @property
    def best_step(self) -> int | None:
        return self.step[self.val_loss.index(self.best_val)] if self.val_loss else None

    def to_dict(self) -> dict:
        return asdict(self)


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: unreadable, or saved from another configuration."""


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

    Biases, LayerNorm gains and the embedding tables (the token embedding is also the
    output layer when weights are tied) are not decayed: shrinking them towards zero
    does not make the model simpler, it only fights the loss.
    """
    embeddings = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    decay, no_decay, seen = [], [], set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            is_matrix = isinstance(module, nn.Linear) and name == "weight"
            (decay if is_matrix and id(p) not in embeddings else no_decay).append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas))


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: torch.Tensor,
    context_length: int,
    batch_size: int = 256,
    stride: int = 1,
    device: str | torch.device | None = None,
) -> float:
    """Mean next-token cross-entropy of ``model`` over windows of ``data``.

    Windows of ``context_length`` tokens start every ``stride`` tokens (stride 1: every
    window, the book's validation protocol); each window contributes all of its
    ``context_length`` predictions. Runs in eval mode without gradients and puts the
    model back in the mode it was in.
    """
    if len(data) <= context_length:
        raise ValueError(f"need more than context_length={context_length} tokens, got {len(data)}")
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    starts = torch.arange(0, len(data) - context_length, stride)
    offsets = torch.arange(context_length)
    total, count = 0.0, 0
    try:
        for chunk in starts.split(batch_size):
            x = data[chunk[:, None] + offsets].to(device)  # (B, T)
            y = data[chunk[:, None] + offsets + 1].to(device)  # (B, T)
            logits, _ = model(x)  # (B, T, vocab_size)
            total += F.cross_entropy(logits.flatten(0, 1).float(), y.flatten(), reduction="sum").item()
            count += y.numel()
    finally:
        model.train(was_training)
    return total / count


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
) -> History:
    """Train ``model`` for ``cfg.steps`` updates of AdamW on random batches of ``train_data``.

    Every ``cfg.eval_every`` updates, and after the last one, the model is evaluated
    on ``val_data`` (:func:`evaluate`), the result appended to the returned
    :class:`History`, and ``callback(history)`` called (to draw a live plot, say);
    if the callback returns ``True``, training stops there (early stopping).

    ``checkpoint_path``: save a checkpoint there after each evaluation (with the
    optimizer and random-number states). ``resume``: continue from such a checkpoint,
    exactly where it stopped: the result is the same as one uninterrupted run.

    Two regularisers for small corpora, both off by default. ``cfg.label_smoothing``
    trains towards a target that keeps a little probability for every token, as in
    Vaswani et al. (2017); the validation loss stays plain cross-entropy.
    ``cfg.ema_decay`` keeps an exponential moving average of the weights
    (``torch.optim.swa_utils.AveragedModel``), evaluates the average, and copies it
    into ``model`` at the end (not combinable with checkpoints or resuming).
    """
    from tqdm.auto import tqdm

    if cfg.ema_decay is not None and (resume is not None or checkpoint_path is not None):
        raise ValueError("ema_decay cannot be combined with checkpoints or resuming: "
                         "the averaged weights are not saved; set ema_decay=None")
    device = torch.device(cfg.device) if cfg.device else get_device()
    model.to(device).train()
    optimizer = make_optimizer(model, cfg)
    average = None
    if cfg.ema_decay is not None:
        from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

        average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay))
    generator = torch.Generator().manual_seed(cfg.seed)  # batches; dropout uses the global RNG
    history, start = History(), 0
    if resume is not None:
        _, info = load_checkpoint(resume, model, optimizer=optimizer)
        start = info["step"]
        history = History(**info["history"]) if info.get("history") else History()
        if info.get("rng"):
            generator.set_state(info["rng"]["batches"])
            torch.set_rng_state(info["rng"]["torch"])
            if info["rng"].get("cuda") is not None and device.type == "cuda":
                torch.cuda.set_rng_state(info["rng"]["cuda"], device)
    T = model.cfg.context_length
    clock = history.train_seconds[-1] if history.train_seconds else 0.0
    since_eval: list[float] = []
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress,
               desc="training", unit="step")
    tick = time.perf_counter()
    for step in bar:
        lr = lr_at(step, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(train_data, cfg.batch_size, T, generator, device)
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
        since_eval.append(loss.item())
        done = step + 1
        if done % cfg.eval_every == 0 or done == cfg.steps:
            clock += time.perf_counter() - tick
            history.step.append(done)
            history.train_loss.append(sum(since_eval) / len(since_eval))
            evaluated = model if average is None else average.module
            history.val_loss.append(
                evaluate(evaluated, val_data, T, cfg.eval_batch_size, cfg.eval_stride, device)
            )
            history.lr.append(lr)
            history.train_seconds.append(clock)
            history.step_loss.extend(since_eval)
            since_eval = []
            bar.set_postfix(train=f"{history.train_loss[-1]:.3f}", val=f"{history.val_loss[-1]:.3f}")
            if checkpoint_path is not None:
                save_checkpoint(checkpoint_path, model, step=done, vocab=vocab, optimizer=optimizer,
                                history=history, train_config=cfg,
                                rng={"batches": generator.get_state(), "torch": torch.get_rng_state(),
                                     "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None})
            if callback is not None and callback(history):
                break  # the callback asked to stop (early stopping)
            tick = time.perf_counter()
    bar.close()
    if average is not None:
        model.load_state_dict(average.module.state_dict())
    return history


# ----------------------------------------------------------------------------- checkpoints

CHECKPOINT_FORMAT = "tfs-checkpoint-1"


def save_checkpoint(
    path: str | os.PathLike,
    model: GPT,
    *,
    step: int,
    vocab: CompactVocab | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    history: History | None = None,
    train_config: TrainConfig | None = None,
    rng: dict | None = None,
) -> Path:
    """Write a checkpoint atomically: to a temporary file beside ``path``, then renamed.

    A crash or an error half-way leaves any previous checkpoint at ``path`` untouched
    and no temporary file behind. The file holds plain data only (tensors, numbers,
    strings, lists, dicts), so it loads with ``torch.load(weights_only=True)``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "format": CHECKPOINT_FORMAT,
        "config": model.cfg.to_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "step": int(step),
        "vocab": list(vocab.ids) if vocab is not None else None,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict() if history is not None else None,
        "train_config": train_config.to_dict() if train_config is not None else None,
        "rng": rng,
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _config_differences(saved: dict, expected: dict) -> list[str]:
    keys = sorted(set(saved) | set(expected))
    return [
        f"{k}: checkpoint has {saved.get(k, '(missing)')!r}, expected {expected.get(k, '(missing)')!r}"
        for k in keys
        if saved.get(k) != expected.get(k)
    ]


def load_checkpoint(
    path: str | os.PathLike,
    model: GPT | None = None,
    expected_config: GPTConfig | None = None,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    map_location: str | torch.device = "cpu",
) -> tuple[GPT, dict]:
    """Load a checkpoint written by :func:`save_checkpoint`; return ``(model, info)``.

    With ``model=None`` a new :class:`GPT` is built from the saved configuration.
    The saved configuration must equal ``expected_config`` (or ``model.cfg``),
    otherwise :class:`CheckpointError` names every field that differs; an unreadable
    (truncated, corrupt) file also raises :class:`CheckpointError`. ``info`` is the
    checkpoint's dict (``step``, ``vocab``, ``history``, ...); the optimizer state is
    loaded into ``optimizer`` if one is given.
    """
    path = Path(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as err:  # noqa: BLE001 - every way a file can be unreadable
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): {err}. "
            "Delete it and save or train again."
        ) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint written by shared.training.save_checkpoint")
    if expected_config is None and model is not None:
        expected_config = model.cfg
    if expected_config is not None:
        diff = _config_differences(state["config"], expected_config.to_dict())
        if diff:
            raise CheckpointError(
                f"{path} was saved from a different model configuration: " + "; ".join(diff)
            )
    if model is None:
        model = GPT(GPTConfig(**state["config"]))
    model.load_state_dict(state["model"])
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise CheckpointError(f"{path} holds no optimizer state to resume from")
        optimizer.load_state_dict(state["optimizer"])
    return model, state


# ----------------------------------------------------------------------------- the book's model

BOOK_MODEL_PATH = Path("checkpoints") / "book_model.pt"  # inside shared.data.cache_dir()

#: The recipe of the model Chapter 7 trains and Chapters 8 and 9 use.
BOOK_TRAIN = TrainConfig(steps=1000, batch_size=64, lr=3e-3, min_lr=3e-4, warmup_steps=100,
                         weight_decay=0.1, grad_clip=1.0, eval_every=200, seed=1337)
BOOK_SEED = 1337  # seeds the model's initialisation


def book_model_config(vocab_size: int) -> GPTConfig:
    """The book model: the course's width (``d_model=64``, 4 heads, ``context_length=16``)
    with 2 blocks, learned positions, a compact vocabulary and tied weights (Chapter 7
    says why each)."""
    return GPTConfig(vocab_size=vocab_size, context_length=16, d_model=64, n_heads=4,
                     n_layers=2, dropout=0.1, pos_embedding="learned", tie_weights=True)


@lru_cache(maxsize=1)
def load_book_data() -> tuple[CompactVocab, torch.Tensor, torch.Tensor]:
    """The corpus as compact ids: ``(vocab, train_data, val_data)``, split 90/10.

    The compact vocabulary is built from the *whole* corpus, so every validation
    target has an output row.
    """
    tokens = encode(load_corpus())
    vocab = CompactVocab.from_tokens(tokens)
    train_data, val_data = train_val_split(vocab.to_compact(tokens), 0.1)
    return vocab, train_data, val_data


def train_book_model(
    callback: Callable[[History], None] | None = None,
    progress: bool = True,
    cfg: TrainConfig = BOOK_TRAIN,
) -> tuple[GPT, CompactVocab, History]:
    """Train the book model from scratch, deterministically (seeded); return it on the CPU.

    It trains with one PyTorch thread: for matrices this small a second thread gains
    little on a quiet machine and loses a lot on a busy one, and one thread makes the
    result the same whatever the number of cores.
    """
    vocab, train_data, val_data = load_book_data()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        set_seed(BOOK_SEED)
        model = GPT(book_model_config(len(vocab)))
        history = train(model, train_data, val_data, cfg, callback=callback, progress=progress)
    finally:
        torch.set_num_threads(threads)
    return model.cpu().eval(), vocab, history


def load_or_train_book_model(progress: bool = True, path: str | os.PathLike | None = None
                             ) -> tuple[GPT, CompactVocab]:
    """The book model and its vocabulary, in eval mode on the CPU.

    Loads the checkpoint from ``data/checkpoints/book_model.pt`` if it exists and was
    made with today's recipe; otherwise trains it with :func:`train_book_model` (the
    same seeded code path as Chapter 7, so the result is the same) and saves it.
    """
    path = Path(path) if path is not None else cache_dir() / BOOK_MODEL_PATH
    vocab, _, _ = load_book_data()
    expected = book_model_config(len(vocab))
    if path.exists():
        try:
            model, info = load_checkpoint(path, None, expected)
            if info.get("vocab") == list(vocab.ids) and info.get("train_config") == BOOK_TRAIN.to_dict():
                return model.eval(), vocab
        except CheckpointError as err:
            print(f"Not using {path}: {err}")
    model, vocab, history = train_book_model(progress=progress)
    save_checkpoint(path, model, step=BOOK_TRAIN.steps, vocab=vocab, history=history,
                    train_config=BOOK_TRAIN)
    return model, vocab
