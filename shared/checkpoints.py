"""Checkpoints, as built in Chapter 7: save a model (and a run) atomically, load it safely.

    save_checkpoint("run.pt", model, step=1000, vocab=vocab)   # + optimizer, history, ... to resume
    model, info = load_checkpoint("run.pt", None)              # None: build the model from the file

A checkpoint is one ``torch.save`` file of plain data (tensors, numbers, strings, lists,
dicts), so it loads with ``torch.load(weights_only=True)``, which cannot run code. It is
written to a temporary file and renamed into place, and loading checks the saved model
configuration against the expected one. :func:`shared.training.train` uses both to
save a run after each evaluation and to resume it exactly.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from shared.data import CompactVocab, atomic_write
from shared.model import GPT, GPTConfig
from shared.runs import History, TrainConfig
from shared.validate import check_type

__all__ = ["CheckpointError", "CHECKPOINT_FORMAT", "save_checkpoint", "load_checkpoint", "config_differences"]


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: unreadable, or saved from another configuration."""


CHECKPOINT_FORMAT = "tfs-checkpoint-2"  # 2 adds "sha256", a digest of the rest (files of format 1 still load)


def _digest(state: dict) -> str:
    """SHA-256 of a checkpoint's contents: every key, number, string and tensor byte, in a fixed
    order. ``torch.load`` checks the file's structure but not its numbers, so a bit flipped in
    a weight would otherwise load silently."""
    h = hashlib.sha256()

    def feed(x) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous().reshape(-1)
            h.update(f"tensor {t.dtype} {tuple(x.shape)}:".encode())
            h.update(t.view(torch.uint8).numpy().tobytes())
        elif isinstance(x, dict):
            h.update(f"dict {len(x)}:".encode())
            for key in sorted(x, key=repr):
                h.update(repr(key).encode())
                feed(x[key])
        elif isinstance(x, (list, tuple)):
            h.update(f"{type(x).__name__} {len(x)}:".encode())
            for item in x:
                feed(item)
        else:
            h.update(f"{type(x).__name__} {x!r};".encode())

    feed(state)
    return h.hexdigest()


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
    state = {
        "format": CHECKPOINT_FORMAT,
        "config": model.cfg.to_dict(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "step": int(step),
        "vocab": list(vocab.ids) if vocab is not None else None,
        "vocab_unk": bool(vocab.unk) if vocab is not None else False,
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "history": history.to_dict() if history is not None else None,
        "train_config": train_config.to_dict() if train_config is not None else None,
        "rng": rng,
    }
    state["sha256"] = _digest(state)
    atomic_write(path, lambda f: torch.save(state, f))
    return path


def config_differences(saved: dict, expected: dict, ignore: tuple[str, ...] = ()) -> list[str]:
    """One line per field whose saved value differs from the expected one."""
    keys = sorted((set(saved) | set(expected)) - set(ignore))
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
    checkpoint's dict (``step``, ``vocab`` as a :class:`~shared.data.CompactVocab` or None,
    ``history``, ...); the optimizer state is
    loaded into ``optimizer`` if one is given.
    """
    check_type(path, "path", (str, os.PathLike), fix="the checkpoint file's name")
    check_type(model, "model", (GPT, type(None)), fix="or None to build the model from the file")
    check_type(expected_config, "expected_config", (GPTConfig, type(None)))
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}: check the name, or save one with save_checkpoint")
    damaged = f"Delete {path} and save or train again."
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - every way a file can be unreadable
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt?): {err}. "
            "Delete it and save or train again."
        ) from err
    if not isinstance(state, dict) or state.get("format") not in (CHECKPOINT_FORMAT, "tfs-checkpoint-1"):
        raise CheckpointError(f"{path} is not a checkpoint written by shared.training.save_checkpoint")
    if state["format"] == CHECKPOINT_FORMAT and state.pop("sha256", None) != _digest(state):
        raise CheckpointError(f"{path} is damaged: its contents do not match the checksum saved in it "
                              f"(a changed bit on disk or in a copy). {damaged}")
    if not isinstance(state.get("config"), dict) or not isinstance(state.get("model"), dict):
        raise CheckpointError(f"{path} holds no model configuration or weights. {damaged}")
    if expected_config is None and model is not None:
        expected_config = model.cfg
    if expected_config is not None:
        diff = config_differences(state["config"], expected_config.to_dict())
        if diff:
            raise CheckpointError(
                f"{path} was saved from a different model configuration: " + "; ".join(diff)
            )
    try:
        if state.get("vocab") is not None:
            state["vocab"] = CompactVocab(tuple(state["vocab"]), unk=bool(state.get("vocab_unk", False)))
        if model is None:
            model = GPT(GPTConfig(**state["config"]))
        model.load_state_dict(state["model"])
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path} does not hold a model this book can build: {err}. {damaged}") from err
    if optimizer is not None:
        if state.get("optimizer") is None:
            raise CheckpointError(f"{path} holds no optimizer state to resume from")
        optimizer.load_state_dict(state["optimizer"])
    return model, state
