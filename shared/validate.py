"""Checks at the door: every public function of ``shared/`` tests what it is given, once.

Readers call the book's code from their own notebooks with their own tensors. A mistake
there (an id outside the vocabulary, float ids, a forgotten batch dimension, a setting
out of range) should stop at the function the reader called, with a message that names
the argument, says what was expected and what came, and how to fix it, rather than
deep inside PyTorch or, worse, not at all. The rules:

* ``TypeError``   the wrong kind of value (a float where an integer is needed, a list
  where a tensor is needed, ``True`` where a number is needed);
* ``ValueError``  the right kind, but out of range or of the wrong shape;
* ``IndexError``  a token id outside the vocabulary.

Each check is a few comparisons; :func:`check_token_ids` adds one min/max pass over the
ids (a single ``item()`` for the one token a cached generation step feeds the model).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

import torch

__all__ = ["check_int", "check_number", "check_bool", "check_choice", "check_type", "check_token_ids",
           "as_token_ids", "check_logits", "check_generator", "check_device"]

INTEGER_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


def _what(value: Any) -> str:
    """A short description of what came: its type, and its value when that is short."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return f"{type(value).__name__} {text}" if len(text) <= 40 else type(value).__name__


def check_int(value: Any, name: str, minimum: int | None = None, maximum: int | None = None,
              fix: str = "") -> int:
    """``value`` if it is an integer in ``minimum..maximum``, else TypeError/ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_what(value)}" + (f"; {fix}" if fix else ""))
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        allowed = (f"between {minimum} and {maximum}" if minimum is not None and maximum is not None
                   else f">= {minimum}" if minimum is not None else f"<= {maximum}")
        raise ValueError(f"{name} must be an integer {allowed}, got {value}" + (f"; {fix}" if fix else ""))
    return int(value)


def check_number(value: Any, name: str, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False, fix: str = "") -> float:
    """``value`` if it is a finite real number in the given range, else TypeError/ValueError.
    ``low_open``/``high_open``: the bound itself is excluded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {_what(value)}" + (f"; {fix}" if fix else ""))
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        allowed = (f"in {left}, {right}" if low is not None and high is not None
                   else f"{'>' if low_open else '>='} {low:g}" if low is not None
                   else f"{'<' if high_open else '<='} {high:g}" if high is not None else "finite")
        raise ValueError(f"{name} must be a finite number {allowed}, got {value!r}" + (f"; {fix}" if fix else ""))
    return value


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or a string), else TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {_what(value)}")
    return value


def check_choice(value: Any, name: str, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``, else ValueError listing them."""
    if isinstance(value, bool) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def check_type(value: Any, name: str, kind: type | tuple[type, ...], fix: str = "") -> Any:
    """``value`` if it is an instance of ``kind``, else a TypeError that says what to pass."""
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join("None" if k is type(None) else k.__name__ for k in kinds)
        raise TypeError(f"{name} must be {wanted}, got {_what(value)}" + (f"; {fix}" if fix else ""))
    return value


def check_token_ids(ids: Any, name: str, vocab_size: int, *, dims: int = 2,
                    max_length: int | None = None) -> None:
    """Check a tensor of token ids: integer dtype, ``dims`` dimensions (``(B, T)`` for 2),
    ``1 <= T <= max_length`` and every id in ``0..vocab_size - 1``.

    TypeError for a non-tensor or non-integer dtype, ValueError for a wrong shape or
    length, IndexError for an id outside the vocabulary.
    """
    shape = "(B, T)" if dims == 2 else "(T,)"
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of token ids of shape {shape}, got {_what(ids)}; "
                        f"make one with torch.tensor(...){'[None]' if dims == 2 else ''}")
    if ids.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{name} must hold integer token ids (torch.long), got dtype {ids.dtype}; "
                        f"convert with {name}.long() if the values are whole numbers")
    if ids.dim() != dims:
        fix = (f"add a batch dimension with {name}[None]" if dims == 2 and ids.dim() == 1
               else f"reshape it to {shape}")
        raise ValueError(f"{name} must have shape {shape}, got {tuple(ids.shape)}; {fix}")
    T = ids.shape[-1]
    if T == 0 or (max_length is not None and T > max_length):
        raise ValueError(f"{name} must hold at least one token per row"
                         + (f" and at most {max_length}" if max_length is not None else "") + f", got {T}")
    if ids.numel() == 1:  # one token (a cached generation step): item() is cheaper than a reduction
        low = high = ids.item()
    elif ids.numel():  # (a batch of no rows is allowed: there is nothing to check)
        low, high = (v.item() for v in torch.aminmax(ids))
    else:
        return
    if low < 0 or high >= vocab_size:
        raise IndexError(f"{name} holds token ids from {low} to {high}, but the vocabulary has ids "
                         f"0..{vocab_size - 1}; were these ids made with another tokenizer or vocabulary "
                         "(GPT-2 ids for a compact-vocabulary model: vocab.to_compact(ids))?")


def as_token_ids(tokens: Any, name: str, vocab_size: int | None = None, *, flat: bool = True) -> torch.Tensor:
    """A sequence of token ids (a list, a tuple, a 1-D tensor) as a 1-D ``torch.long`` tensor
    (of any shape with ``flat=False``).

    Floats are refused rather than silently truncated; with ``vocab_size``, every id
    must be in ``0..vocab_size - 1``. An empty sequence is allowed.
    """
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"{name} must be token ids, got a string; encode it first: shared.data.encode(text)")
    try:
        t = torch.as_tensor(tokens)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(f"{name} must be a list or 1-D tensor of integer token ids, got {_what(tokens)} ({err})"
                        ) from None
    if t.numel() and t.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{name} must hold integer token ids, got dtype {t.dtype}; "
                        "convert with .long() if the values are whole numbers")
    if flat and t.dim() != 1:
        raise ValueError(f"{name} must be one sequence of ids, shape (N,), got shape {tuple(t.shape)}; "
                         "flatten it, or pass one row")
    t = t.long()
    if vocab_size is not None and t.numel():
        low, high = (v.item() for v in torch.aminmax(t))
        if low < 0 or high >= vocab_size:
            raise IndexError(f"{name} holds token ids from {low} to {high}, but the vocabulary has ids "
                             f"0..{vocab_size - 1}")
    return t


def check_logits(logits: Any, name: str = "logits", dims: int | None = None) -> None:
    """A floating-point tensor of scores with a non-empty last dimension (the vocabulary),
    ``dims`` dimensions if given, no NaN or +inf, and at least one finite score per row
    (``-inf`` marks a token that can never be picked)."""
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor of scores, got {_what(logits)}")
    if (dims is not None and logits.dim() != dims) or logits.dim() == 0 or logits.shape[-1] == 0:
        wanted = "(B, vocab_size)" if dims == 2 else "(..., vocab_size)"
        fix = f"; add a batch dimension with {name}[None]" if dims == 2 and logits.dim() == 1 else ""
        raise ValueError(f"{name} must have shape {wanted}, got {tuple(logits.shape)}{fix}")
    if logits.isnan().any() or logits.isposinf().any() or logits.isneginf().all(-1).any():
        raise ValueError(f"{name} holds NaN or +inf, or a row where every score is -inf: "
                         "no token can be sampled from it (did the model's output overflow?)")


def check_generator(generator: Any) -> None:
    """``None`` or a ``torch.Generator`` (not a seed: make one with ``torch.Generator().manual_seed(seed)``)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be None or a torch.Generator, got {_what(generator)}; "
                        "for a seed, pass torch.Generator().manual_seed(seed)")


def check_device(device: Any, name: str = "device") -> torch.device:
    """``device`` as a ``torch.device``; ValueError/TypeError naming it if it is not one."""
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a string such as 'cpu' or 'cuda', or a torch.device, got {_what(device)}")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name}={device!r} is not a device: use 'cpu', 'cuda', 'cuda:0' or 'mps'") from None
