"""Scoring a model, as built in Chapter 7: the validation loss and bits per byte.

    evaluate(model, val_data, context_length=16)             # nats per token (the protocol below)
    bits_per_byte(model, ids, n_bytes, context_length=16)    # bits per UTF-8 byte of a text

**Validation protocol** (:func:`evaluate`). The validation split is the last 10% of the
corpus's tokens (``shared.data.train_val_split(tokens, 0.1)``). The validation loss is the
mean next-token cross-entropy over *every* window of ``context_length`` tokens: windows
start at positions ``0, 1, 2, ..., len(val) - context_length - 1`` (stride 1), and each
window contributes its ``context_length`` predictions (the token after its first token,
after its first two tokens, ...). Every prediction counts equally, so a token is
predicted once with each amount of context from 1 to ``context_length`` tokens.
``evaluate(..., stride=context_length)`` gives the cheaper estimate over non-overlapping
windows, where each target is counted once. With the book model's vocabulary,
``evaluate(..., vocab=vocab)`` scores every prediction over all 50,257 GPT-2 ids: the
probability of the shared ``<unk>`` output is split evenly over the ids it stands for
(:meth:`shared.data.CompactVocab.full_vocab_log_prob`).

**Bits per byte** (:func:`bits_per_byte`). A loss per token cannot compare two
tokenizers: a tokenizer with longer tokens has fewer, harder predictions to make. The
number of bits a model needs to encode a text, divided by the text's UTF-8 bytes, can:
it is what a compressor driven by the model would write. Each token is scored once, with
as much preceding context as the model's window holds (up to ``context_length`` tokens),
over the model's full output.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from shared.data import CompactVocab
from shared.validate import as_token_ids, check_device, check_int, check_type

__all__ = ["evaluate", "token_log_probs", "bits_per_byte"]


def _check_scorer(model: nn.Module, context_length: int, vocab: CompactVocab | None) -> int | None:
    """Check the arguments every scoring function shares; return the model's vocab_size if it has a cfg."""
    check_type(model, "model", nn.Module, fix="pass the model itself, e.g. a shared.model.GPT")
    check_type(vocab, "vocab", (CompactVocab, type(None)), fix="pass the model's CompactVocab, or None")
    cfg = getattr(model, "cfg", None)
    check_int(context_length, "context_length", 1, getattr(cfg, "context_length", None),
              fix="a positive number of tokens, at most the model's window")
    if cfg is None:
        return None
    if vocab is not None and len(vocab) != cfg.vocab_size:
        raise ValueError(f"vocab has {len(vocab)} ids but the model has vocab_size={cfg.vocab_size}: "
                         "pass the vocabulary the model was trained with")
    return cfg.vocab_size


def _logits(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The logits of ``model(x)``, whether the model returns them alone or as ``(logits, loss)``."""
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: torch.Tensor,
    context_length: int,
    batch_size: int = 256,
    stride: int = 1,
    device: str | torch.device | None = None,
    *,
    vocab: CompactVocab | None = None,
    count: torch.Tensor | None = None,
) -> float:
    """Mean next-token cross-entropy of ``model`` over windows of ``data``.

    Windows of ``context_length`` tokens start every ``stride`` tokens (stride 1: every
    window, the book's validation protocol); each window contributes all of its
    ``context_length`` predictions. Runs in eval mode without gradients and puts the
    model back in the mode it was in.

    ``vocab``: score over all of GPT-2's ids through the vocabulary's shared ``<unk>``
    output (:meth:`~shared.data.CompactVocab.full_vocab_log_prob`): a target that is
    ``<unk>`` costs ``-log p(<unk>) + log(vocab.n_unk_ids)``. Without it (or for a
    vocabulary without ``<unk>``) the loss is the plain cross-entropy over the
    model's outputs. ``count``: a boolean tensor as long as ``data``; only the targets
    at positions where it is True are counted (for instance, the targets seen in training).
    """
    data = as_token_ids(data, "data", _check_scorer(model, context_length, vocab))
    check_int(batch_size, "batch_size", minimum=1)
    check_int(stride, "stride", minimum=1, fix="1 for every window, context_length for non-overlapping ones")
    if len(data) <= context_length:
        raise ValueError(f"data must hold more than context_length={context_length} tokens, got {len(data)}")
    if count is not None and (not isinstance(count, torch.Tensor) or count.dtype != torch.bool):
        raise TypeError(f"count must be None or a boolean tensor (True: count this target), got {count!r:.60}")
    if count is not None and count.shape != data.shape:
        raise ValueError(f"count must have the shape of data, {tuple(data.shape)}, got {tuple(count.shape)}")
    device = next(model.parameters()).device if device is None else check_device(device)
    was_training = model.training
    model.eval()
    starts = torch.arange(0, len(data) - context_length, stride)
    offsets = torch.arange(context_length)
    total, n = 0.0, 0
    try:
        for chunk in starts.split(batch_size):
            x = data[chunk[:, None] + offsets].to(device)  # (B, T)
            y = data[chunk[:, None] + offsets + 1].to(device)  # (B, T)
            picked = _target_log_probs(_logits(model, x), y, vocab)  # (B, T)
            if count is not None:
                keep = count[chunk[:, None] + offsets + 1].to(device)
                picked, n = picked[keep], n + int(keep.sum())
            else:
                n += y.numel()
            total -= picked.sum().item()
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError("no target is counted: count is False everywhere")
    return total / n


def _target_log_probs(logits: torch.Tensor, targets: torch.Tensor, vocab: CompactVocab | None) -> torch.Tensor:
    """Natural-log probabilities of ``targets`` under ``logits`` (over all GPT-2 ids with ``vocab``)."""
    log_probs = F.log_softmax(logits.float(), dim=-1)
    if vocab is not None:
        return vocab.full_vocab_log_prob(log_probs, targets)
    return log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def token_log_probs(
    model: nn.Module,
    ids: torch.Tensor,
    context_length: int,
    *,
    first: int = 1,
    vocab: CompactVocab | None = None,
    batch_size: int = 256,
    last_logits: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """The natural-log probability the model gives each token ``ids[first:]``, one value each.

    Token ``i`` is predicted from the ``min(i, context_length)`` tokens before it: the
    first ``context_length`` targets from one window ``ids[:context_length]``, every later
    target from the last position of the window that ends just before it. ``ids[:first]``
    are context only (``first >= 1``: the first token has nothing to be predicted from).
    ``model(x)`` maps ``(B, T)`` ids to ``(B, T, V)`` logits, alone or as ``(logits, loss)``;
    with ``vocab`` the probabilities are over all of GPT-2's ids (the ``<unk>`` rule).
    ``last_logits``: a faster way to get the last position's ``(B, V)`` logits of ``(B, T)``
    ids, for a model with a large output layer (default: ``model(x)``'s last position).
    """
    ids = torch.as_tensor(ids) if isinstance(ids, (list, tuple)) else ids
    if not isinstance(ids, torch.Tensor) or ids.dim() != 1 or ids.dtype not in (torch.int32, torch.int64):
        raise TypeError("ids must be a 1-D tensor of integer token ids, got "
                        + (f"shape {tuple(ids.shape)} and dtype {ids.dtype}" if isinstance(ids, torch.Tensor)
                           else type(ids).__name__))
    vocab_size = _check_scorer(model, context_length, vocab)
    as_token_ids(ids, "ids", vocab_size)
    if len(ids) < 2:
        raise ValueError(f"ids must hold at least 2 tokens (one to predict from, one to score), got {len(ids)}")
    check_int(first, "first", fix="the index of the first token to score")
    if not 1 <= first < len(ids):
        raise ValueError(f"first must be in 1..len(ids)-1 = {len(ids) - 1} (the tokens scored are "
                         f"ids[first:]), got {first}")
    check_int(batch_size, "batch_size", minimum=1)
    device = next(model.parameters()).device
    ids = ids.long().to(device)
    T = min(context_length, len(ids) - 1)
    was_training = model.training
    model.eval()
    try:
        head = _target_log_probs(_logits(model, ids[None, :T])[0], ids[1:T + 1], vocab)  # targets 1..T
        rest = []
        starts = torch.arange(1, len(ids) - T, device=device)  # the window ids[s:s+T] predicts ids[s+T]
        for chunk in starts.split(batch_size):
            x = ids[chunk[:, None] + torch.arange(T, device=device)]  # (B, T)
            logits = last_logits(x) if last_logits is not None else _logits(model, x)[:, -1]
            rest.append(_target_log_probs(logits, ids[chunk + T], vocab))
    finally:
        model.train(was_training)
    return torch.cat([head, *rest])[first - 1:].cpu()


def bits_per_byte(
    model: nn.Module,
    ids: torch.Tensor,
    n_bytes: int,
    context_length: int,
    *,
    first: int = 1,
    vocab: CompactVocab | None = None,
    batch_size: int = 256,
    last_logits: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """Bits per UTF-8 byte of the text whose tokens are ``ids[first:]``, which is ``n_bytes`` long.

    The sum of ``-log2 p`` over those tokens (:func:`token_log_probs`: each scored once,
    with up to ``context_length`` tokens of context, over the model's full output),
    divided by ``n_bytes``. Put the tokens that precede the text in ``ids[:first]`` to give
    its first tokens their context; they are not scored.
    """
    check_int(n_bytes, "n_bytes", fix="the length of the scored text in UTF-8 bytes: len(text.encode())")
    if n_bytes < 1:
        raise ValueError(f"n_bytes must be the positive UTF-8 length of the scored text, got {n_bytes}")
    log_probs = token_log_probs(model, ids, context_length, first=first, vocab=vocab, batch_size=batch_size,
                                last_logits=last_logits)
    return -float(log_probs.double().sum()) / math.log(2) / n_bytes
