"""Checks for the reader's own code: run it against the book's reference on several inputs.

Each ``check_...(your_function)`` calls your function on a handful of inputs, the
awkward ones included (a sequence of one token, a batch of one, an empty list where
that is legal, tensors that are not contiguous in memory, very large scores), and
compares every result with the book's own implementation from ``shared/``.

* If everything agrees, it prints one line, ``check_attention: passed (8 cases)``,
  and returns ``None``.
* At the first disagreement it raises ``AssertionError`` with a message that names
  the case and says what was wrong: a wrong shape, NaN or infinity, a largest
  difference, or the exception your function raised. A failing check therefore stops
  the notebook cell, as a failing ``assert`` does.

One check (at least) per chapter:

=========  ===================================  =========================================
Chapter    check                                your function
=========  ===================================  =========================================
1          :func:`check_merge_pair`             ``merge_pair(symbols, pair) -> list``
1          :func:`check_decode`                 ``decode(ids) -> str``
2          :func:`check_embedding`              ``embed(ids, W_E) -> tensor``
3          :func:`check_sinusoidal_positions`   ``positions(context_length, d_model)``
4          :func:`check_attention`              ``attention(q, k, v)``
5          :func:`check_causal_attention`       ``causal_attention(q, k, v)``
6          :func:`check_layer_norm`             ``layer_norm(x, weight, bias, eps)``
7          :func:`check_lr_at`                  ``lr_at(step, cfg)``
7          :func:`check_cross_entropy`          ``cross_entropy(logits, targets)``
8          :func:`check_top_k` / ``top_p``      ``top_k_filter(probs, k)`` and so on
9          :func:`check_conv1d_to_linear`       ``conv1d_to_linear(weight, bias)``
10         ``distributed.check_rank_indices``   ``rank_indices(n, rank, world_size)``
=========  ===================================  =========================================

Attention functions may return the output alone or a tuple ``(output, weights)``, as
the chapters' versions do; only the output is compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = [
    "check_merge_pair", "check_decode", "check_embedding", "check_sinusoidal_positions",
    "check_attention", "check_causal_attention", "check_layer_norm", "check_lr_at",
    "check_cross_entropy", "check_top_k", "check_top_p", "check_conv1d_to_linear", "reference_merge_pair",
]


# --------------------------------------------------------------------------- helpers


def _call(check: str, case: str, fn: Callable, *args: Any) -> Any:
    """``fn(*args)``; an exception becomes an AssertionError that names the case."""
    if not callable(fn):
        raise TypeError(f"{check} expects your function (pass its name, without calling it), got {type(fn).__name__}")
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001 - any failure of the reader's code is reported
        raise AssertionError(f"{check}: on {case}, your function raised "
                             f"{type(err).__name__}: {err}") from err


def _compare(check: str, case: str, got: Any, want: torch.Tensor, atol: float, rtol: float = 1e-5) -> None:
    """Raise an AssertionError unless ``got`` is a tensor close to ``want``."""
    if isinstance(got, tuple) and got:  # (output, weights): compare the output
        got = got[0]
    if not isinstance(got, torch.Tensor):
        raise AssertionError(f"{check}: on {case}, expected a tensor, got {type(got).__name__}")
    if tuple(got.shape) != tuple(want.shape):
        raise AssertionError(f"{check}: on {case}, expected shape {tuple(want.shape)}, "
                             f"got {tuple(got.shape)}")
    got = got.detach().cpu().to(torch.float64)
    want = want.detach().to(torch.float64)
    if not torch.isfinite(got).all():
        raise AssertionError(f"{check}: on {case}, the result holds NaN or infinity "
                             "(exp of a large number? a division by a sum of zero?)")
    if not torch.allclose(got, want, atol=atol, rtol=rtol):
        gap = (got - want).abs().max().item()
        raise AssertionError(f"{check}: on {case}, the result differs from the reference "
                             f"by up to {gap:.3g} (allowed: {atol:g})")


def _passed(check: str, n_cases: int) -> None:
    print(f"{check}: passed ({n_cases} cases)\n", end="", flush=True)  # one write: one output chunk


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- Chapter 1


def reference_merge_pair(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """The book's merge step: replace every left-to-right, non-overlapping ``pair`` by one symbol."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def check_merge_pair(merge_pair: Callable[[list[str], tuple[str, str]], list[str]]) -> None:
    """Check one BPE merge step, ``merge_pair(symbols, pair)``: every left-to-right,
    non-overlapping occurrence of the neighbours ``pair`` becomes one symbol."""
    cases = {
        "an empty word": ([], ("a", "b")),
        "a word of one symbol": (["a"], ("a", "b")),
        "no occurrence": (list("hello"), ("x", "y")),
        "a pair at the end": (list(" sell"), ("l", "l")),
        "two occurrences": (list("abab"), ("a", "b")),
        "overlapping occurrences 'aaa'": (list("aaa"), ("a", "a")),
        "merged symbols": ([" s", "ell", "s"], (" s", "ell")),
    }
    for case, (symbols, pair) in cases.items():
        given = list(symbols)
        got = _call("check_merge_pair", case, merge_pair, given, pair)
        want = reference_merge_pair(symbols, pair)
        if not isinstance(got, (list, tuple)) or list(got) != want:
            raise AssertionError(f"check_merge_pair: on {case} {symbols!r} with pair {pair!r}, "
                                 f"expected {want!r}, got {got!r}")
        if given != symbols:
            raise AssertionError(f"check_merge_pair: on {case}, your function changed its input list")
    _passed("check_merge_pair", len(cases))


def check_decode(decode: Callable[[list[int]], str]) -> None:
    """Check ``decode(ids) -> str`` for GPT-2 ids against ``shared.data.decode``.

    The awkward cases are characters whose UTF-8 bytes GPT-2 splits over two tokens:
    decoding token by token and joining the strings breaks them.
    """
    from .data import decode as reference
    from .data import encode

    texts = {"no tokens": "", "one token": " sales", "a sentence": "Build rapport, then sell.",
             "a newline and spaces": "Chapter 1\n\n  Rapport", "accents": "Café déjà vu",
             "an emoji split over tokens": "Thanks! 🤝", "digits": "1,250 deals in 2026"}
    for case, text in texts.items():
        ids = encode(text)
        got = _call("check_decode", case, decode, ids)
        if got != reference(ids):
            raise AssertionError(f"check_decode: on {case}, ids {ids}: expected {text!r}, got {got!r}")
    _passed("check_decode", len(texts))


# --------------------------------------------------------------------------- Chapters 2 and 3


def check_embedding(embed: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """Check ``embed(ids, W_E)``: the rows of ``W_E`` for ids of any shape (``(T,)``,
    ``(B, T)``), the first and the last id included, as ``F.embedding`` gives them."""
    W_E = _randn(50, 8, seed=2)
    cases = {
        "ids of shape (T,)": torch.tensor([3, 1, 4, 1, 5]),
        "a single id, shape (1,)": torch.tensor([7]),
        "a batch of shape (B, T) = (2, 3)": torch.tensor([[0, 1, 2], [2, 2, 2]]),
        "a batch of one, (1, 1)": torch.tensor([[9]]),
        "the first and last ids, 0 and 49": torch.tensor([0, 49]),
        "ids that skip the last rows": torch.tensor([[1, 2], [3, 4]]),
    }
    for case, ids in cases.items():
        _compare("check_embedding", case, _call("check_embedding", case, embed, ids, W_E),
                 F.embedding(ids, W_E), atol=1e-6)
    _passed("check_embedding", len(cases))


def check_sinusoidal_positions(positions: Callable[[int, int], torch.Tensor]) -> None:
    """Check ``positions(context_length, d_model)`` against
    :func:`shared.model.sinusoidal_positions` (sines in even, cosines in odd dimensions)."""
    from .model import sinusoidal_positions

    shapes = [(1, 2), (1, 64), (16, 64), (7, 10), (64, 6), (100, 128)]
    for T, d in shapes:
        case = f"context_length={T}, d_model={d}"
        _compare("check_sinusoidal_positions", case, _call("check_sinusoidal_positions", case, positions, T, d),
                 sinusoidal_positions(T, d), atol=1e-4)
    _passed("check_sinusoidal_positions", len(shapes))


# --------------------------------------------------------------------------- Chapters 4 and 5


def _attention_cases() -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    q, k, v = (_randn(2, 5, 8, seed=s) for s in (0, 1, 2))
    qt, kt, vt = (_randn(2, 8, 5, seed=s).transpose(-2, -1) for s in (3, 4, 5))  # (2, 5, 8), not contiguous
    big = _randn(1, 6, 16, seed=6)
    return {
        "one sentence, (T, d_head) = (5, 8)": (q[0], k[0], v[0]),
        "a batch, (B, T, d_head) = (2, 5, 8)": (q, k, v),
        "T = 1": (q[:, :1], k[:, :1], v[:, :1]),
        "a batch of one, (1, 5, 8)": (q[:1], k[:1], v[:1]),
        "heads, (B, n_heads, T, d_head) = (2, 3, 4, 8)": tuple(_randn(2, 3, 4, 8, seed=s) for s in (7, 8, 9)),
        "non-contiguous inputs (made by transpose)": (qt, kt, vt),
        "large scores (queries times 100)": (100 * big, big, big),
        "d_head = 1": (q[..., :1], k[..., :1], v[..., :1]),
    }


def check_attention(attention: Callable) -> None:
    """Check scaled dot-product attention, ``attention(q, k, v)`` with inputs of shape
    ``(..., T, d_head)``, against ``F.scaled_dot_product_attention`` (no mask)."""
    cases = _attention_cases()
    for case, (q, k, v) in cases.items():
        got = _call("check_attention", case, attention, q, k, v)
        _compare("check_attention", case, got, F.scaled_dot_product_attention(q, k, v), atol=1e-5)
    _passed("check_attention", len(cases))


def check_causal_attention(causal_attention: Callable) -> None:
    """Check causal (masked) attention, ``causal_attention(q, k, v)``: query ``t`` sees keys
    ``0 .. t`` only. Reference: ``F.scaled_dot_product_attention(..., is_causal=True)``."""
    cases = _attention_cases()
    for case, (q, k, v) in cases.items():
        got = _call("check_causal_attention", case, causal_attention, q, k, v)
        want = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        _compare("check_causal_attention", case, got, want, atol=1e-5)
    _passed("check_causal_attention", len(cases))


# --------------------------------------------------------------------------- Chapter 6


def check_layer_norm(layer_norm: Callable) -> None:
    """Check ``layer_norm(x, weight, bias, eps)``, normalising over the last dimension,
    against ``F.layer_norm``."""
    C = 16
    weight, bias = 1 + 0.1 * _randn(C, seed=10), 0.1 * _randn(C, seed=11)
    x = _randn(2, 5, C, seed=12)
    cases = {
        "(B, T, C) = (2, 5, 16)": (x, 1e-5),
        "T = 1": (x[:, :1], 1e-5),
        "a single vector, (C,)": (x[0, 0], 1e-5),
        "non-contiguous input (made by transpose)": (_randn(2, C, 5, seed=13).transpose(1, 2), 1e-5),
        "a large offset and scale (1000 + 50 x)": (1000 + 50 * x, 1e-5),
        "a nearly constant vector (variance 1e-6, eps=1e-3)": (1 + 1e-3 * x, 1e-3),
        "a constant vector": (torch.full((1, 3, C), 7.0), 1e-5),
    }
    for case, (inp, eps) in cases.items():
        got = _call("check_layer_norm", case, layer_norm, inp, weight, bias, eps)
        _compare("check_layer_norm", case, got, F.layer_norm(inp, (C,), weight, bias, eps), atol=1e-4)
    _passed("check_layer_norm", len(cases))


# --------------------------------------------------------------------------- Chapter 7


def check_lr_at(lr_at: Callable) -> None:
    """Check the learning-rate schedule ``lr_at(step, cfg)`` at every step of a few
    :class:`shared.training.TrainConfig` settings, against :func:`shared.training.lr_at`."""
    from .training import TrainConfig
    from .training import lr_at as reference

    configs = [TrainConfig(steps=50, warmup_steps=10, lr=1e-3, min_lr=1e-4),
               TrainConfig(steps=20, warmup_steps=1, lr=3e-3, min_lr=3e-4),
               TrainConfig(steps=30, warmup_steps=0, lr=1.0, min_lr=0.0),
               TrainConfig(steps=1000, warmup_steps=100)]
    for cfg in configs:
        for step in range(cfg.steps):
            case = f"step {step} of steps={cfg.steps}, warmup_steps={cfg.warmup_steps}"
            got = _call("check_lr_at", case, lr_at, step, cfg)
            want = reference(step, cfg)
            if not isinstance(got, (int, float)) or not math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
                raise AssertionError(f"check_lr_at: at {case}, expected {want:.6g}, got {got!r}")
    _passed("check_lr_at", sum(cfg.steps for cfg in configs))


def check_cross_entropy(cross_entropy: Callable) -> None:
    """Check ``cross_entropy(logits, targets)``, logits ``(N, V)`` and targets ``(N,)``,
    the mean of ``-ln softmax(logits)[target]``, against ``F.cross_entropy``."""
    logits = _randn(6, 10, seed=20)
    targets = torch.tensor([0, 9, 3, 3, 5, 1])
    cases = {
        "(N, V) = (6, 10)": (logits, targets),
        "one row, N = 1": (logits[:1], targets[:1]),
        "a vocabulary of 2": (logits[:, :2], torch.tensor([0, 1, 1, 0, 1, 0])),
        "large logits (times 1000)": (1000 * logits, targets),
        "uniform logits (the loss is ln V)": (torch.zeros(4, 10), torch.tensor([1, 2, 3, 4])),
        "non-contiguous logits (made by transpose)": (_randn(10, 6, seed=21).T, targets),
    }
    for case, (z, y) in cases.items():
        got = _call("check_cross_entropy", case, cross_entropy, z, y)
        try:  # a Python or NumPy number is fine too
            got = torch.as_tensor(got)
        except (TypeError, ValueError, RuntimeError):
            pass  # _compare says what came instead
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.reshape(())
        _compare("check_cross_entropy", case, got, F.cross_entropy(z, y), atol=1e-4)
    _passed("check_cross_entropy", len(cases))


# --------------------------------------------------------------------------- Chapter 8


def _probs_cases() -> dict[str, torch.Tensor]:
    return {
        "halves, [0.5, 0.25, 0.125, 0.0625, 0.0625]": torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625]),
        "a row in shuffled order": torch.tensor([0.05, 0.4, 0.1, 0.3, 0.15]),
        "a batch of 2 rows": torch.softmax(_randn(2, 12, seed=30), dim=-1),
        "a batch of one row, (1, V)": torch.softmax(3 * _randn(1, 50, seed=31), dim=-1),
        "a peaked row (one token holds 0.99)": torch.tensor([0.002, 0.99, 0.005, 0.003]),
    }


def check_top_k(top_k_filter: Callable) -> None:
    """Check ``top_k_filter(probs, k)``: keep the ``k`` largest probabilities of each row
    (``probs`` of shape ``(V,)`` or ``(B, V)``, no ties), zero the rest, renormalise."""
    from .generation import next_token_probs

    n = 0
    for case, probs in _probs_cases().items():
        for k in (1, 2, 3, probs.shape[-1]):
            n += 1
            got = _call("check_top_k", f"{case} with k={k}", top_k_filter, probs.clone(), k)
            _compare("check_top_k", f"{case} with k={k}", got, next_token_probs(probs.log(), top_k=k), atol=1e-5)
    _passed("check_top_k", n)


def check_top_p(top_p_filter: Callable) -> None:
    """Check ``top_p_filter(probs, p)``: keep the smallest set of most likely tokens whose
    probabilities add up to at least ``p`` (the token that crosses ``p`` stays in), zero the
    rest, renormalise; ``probs`` of shape ``(V,)`` or ``(B, V)``."""
    from .generation import next_token_probs

    n = 0
    for case, probs in _probs_cases().items():
        for p in (0.01, 0.6, 0.75, 0.9, 1.0):
            n += 1
            got = _call("check_top_p", f"{case} with p={p}", top_p_filter, probs.clone(), p)
            _compare("check_top_p", f"{case} with p={p}", got, next_token_probs(probs.log(), top_p=p), atol=1e-5)
    _passed("check_top_p", n)


# --------------------------------------------------------------------------- Chapter 9


def check_conv1d_to_linear(conv1d_to_linear: Callable[[torch.Tensor, torch.Tensor], nn.Linear]) -> None:
    """Check ``conv1d_to_linear(weight, bias) -> nn.Linear``: GPT-2's ``Conv1D`` stores its
    weight as ``(in_features, out_features)`` and computes ``x @ weight + bias``; the
    ``nn.Linear`` you return must compute the same. A square weight (GPT-2's ``c_proj``)
    has the right shape either way, so only the numbers show a missing transpose."""
    shapes = {"a square weight (768 -> 768, like c_proj)": (12, 12),
              "a widening weight (like c_fc)": (6, 24), "a narrowing weight (like mlp.c_proj)": (24, 6)}
    for case, (d_in, d_out) in shapes.items():
        weight, bias = _randn(d_in, d_out, seed=d_in), _randn(d_out, seed=d_out)
        linear = _call("check_conv1d_to_linear", case, conv1d_to_linear, weight.clone(), bias.clone())
        if not isinstance(linear, nn.Linear):
            raise AssertionError(f"check_conv1d_to_linear: on {case}, expected an nn.Linear, "
                                 f"got {type(linear).__name__}")
        x = _randn(3, 4, d_in, seed=40)
        with torch.no_grad():
            got = _call("check_conv1d_to_linear", case, linear, x)
        _compare("check_conv1d_to_linear", case, got, x @ weight + bias, atol=1e-5)
    _passed("check_conv1d_to_linear", len(shapes))
