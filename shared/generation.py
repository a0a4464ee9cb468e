"""Turning a trained GPT into a text generator (Chapter 8).

The model gives, for every position, a vector of ``vocab_size`` logits: scores
for the token that comes next. Generating text is a loop: score, pick one token,
append it, score again. This module keeps the pieces Chapter 8 builds:

* :func:`next_token_probs` logits -> the distribution we sample from, shaped by
  ``temperature``, ``top_k`` and ``top_p`` (nucleus sampling);
* :func:`sample_next`      one token per row, sampled (or the argmax with ``greedy=True``);
* :func:`generate`         the loop over token ids, with or without a KV cache;
* :func:`generate_text`    the same from a string prompt to a string, through the
  GPT-2 tokenizer and, for the book's model, its :class:`~shared.data.CompactVocab`.

Rules, the same everywhere:

* ``temperature`` must be positive. "Temperature 0" is not a number we divide by:
  ask for the most likely token with ``greedy=True`` instead.
* ``top_k`` is ``None`` (keep every token) or an integer >= 1.
* ``top_p`` is ``None`` (keep every token) or a number in ``(0, 1]``.
* Filters apply in this order: temperature, then top-k, then top-p on the
  renormalised top-k distribution.

The KV cache and the context window
-----------------------------------
With ``use_cache=True`` the prompt is run once (the *prefill*) and each later step
feeds only the newest token, reusing the keys and values stored in a
:class:`~shared.model.KVCache`. Our model adds an *absolute* position vector to
each token, so a token's keys and values depend on where it sits in the window.
When the sequence outgrows ``context_length`` the window must slide, every token
moves to a new position, and the stored keys and values are all stale. Sliding by
one token per step would mean recomputing the whole window every step (no saving).
Instead, when the cache is full, :func:`generate` restarts it from the last
``context_length // 2`` tokens (one prefill), then goes on one token at a time
until it is full again. So:

* while prompt + generated tokens fit in ``context_length``, the cached loop gives
  exactly the tokens of the uncached loop (and logits equal up to float rounding);
* after that, the uncached loop always looks at the last ``context_length``
  tokens, the cached loop at between ``context_length // 2`` and
  ``context_length`` of them, so their outputs may differ.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F

from .model import KVCache
from .validate import check_bool, check_generator, check_logits, check_token_ids, check_type

__all__ = [
    "check_sampling_args",
    "next_token_probs",
    "sample_next",
    "generate",
    "encode_prompt",
    "generate_text",
]


def check_sampling_args(temperature: float = 1.0, top_k: int | None = None,
                        top_p: float | None = None) -> None:
    """Raise ``ValueError`` with a clear message for a setting we cannot sample with."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be a positive number, got {temperature!r}; "
            "for the most likely token every time (temperature 0) use greedy=True"
        )
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or an integer >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0.0 < top_p <= 1.0):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def next_token_probs(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> torch.Tensor:
    """The next-token distribution: ``softmax(logits / temperature)``, then keep the
    ``top_k`` most likely tokens, then the smallest set of most likely tokens whose
    probability adds up to at least ``top_p``; renormalised. Same shape as
    ``logits`` (the last dimension is the vocabulary), rows sum to 1.
    """
    check_sampling_args(temperature, top_k, top_p)
    check_logits(logits)
    return _filtered_probs(logits, temperature, top_k, top_p)


def _filtered_probs(logits: torch.Tensor, temperature: float, top_k: int | None,
                    top_p: float | None) -> torch.Tensor:
    """:func:`next_token_probs` for settings already checked (the generation loop's inner step)."""
    probs = F.softmax(logits.float() / temperature, dim=-1)
    if top_k is not None and top_k < probs.shape[-1]:
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep.scatter_(-1, probs.topk(top_k, dim=-1).indices, True)
        probs = probs * keep
        probs = probs / probs.sum(dim=-1, keepdim=True)
    if top_p is not None and top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        mass_before = sorted_probs.cumsum(dim=-1) - sorted_probs  # mass of the more likely tokens
        keep_sorted = mass_before < top_p  # keep a token while the set is still short of top_p
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = probs * keep
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs


def sample_next(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    *,
    greedy: bool = False,
) -> torch.Tensor:
    """One next token per row of ``logits`` ``(B, vocab_size)`` -> ids ``(B, 1)``.

    ``greedy=True`` takes the most likely token (the sampling settings are ignored);
    otherwise one token is drawn from :func:`next_token_probs` with ``generator``.
    """
    if not check_bool(greedy, "greedy"):
        check_sampling_args(temperature, top_k, top_p)
    check_logits(logits, dims=2)
    check_generator(generator)
    return _pick(logits, temperature, top_k, top_p, generator, greedy)


def _pick(logits: torch.Tensor, temperature: float, top_k: int | None, top_p: float | None,
          generator: torch.Generator | None, greedy: bool) -> torch.Tensor:
    """:func:`sample_next` for settings already checked."""
    if greedy:
        return logits.argmax(dim=-1, keepdim=True)
    probs = _filtered_probs(logits, temperature, top_k, top_p)
    return torch.multinomial(probs, num_samples=1, generator=generator)


@torch.no_grad()
def generate(
    model,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    generator: torch.Generator | None = None,
    use_cache: bool = True,
    suppress: tuple[int, ...] = (),
) -> torch.Tensor:
    """Extend ``idx`` ``(B, T)`` (model token ids) by ``max_new_tokens`` tokens.

    Returns ``(B, T + max_new_tokens)``: the prompt followed by the new tokens.
    A prompt longer than ``context_length`` is kept in the output, but the model
    only sees its last ``context_length`` tokens (a warning says so). See the
    module docstring for what the cache does when the window is full.
    The model is put in eval mode for the loop and restored afterwards.
    ``suppress``: token ids never to generate (their logits are set to -inf), such as
    the book model's shared ``<unk>`` output, which stands for many tokens at once.
    """
    if not check_bool(greedy, "greedy"):
        check_sampling_args(temperature, top_k, top_p)
    _check_model(model)
    if isinstance(idx, torch.Tensor) and idx.dim() == 2 and idx.shape[1] == 0:
        raise ValueError("the prompt idx is empty: give at least one token to start from")
    check_token_ids(idx, "idx", model.cfg.vocab_size)  # any length: the loop crops it to the window
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    check_bool(use_cache, "use_cache")
    check_generator(generator)
    L = model.cfg.context_length
    if isinstance(suppress, (int, str)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in suppress):
        raise TypeError(f"suppress must be a tuple of integer token ids, got {suppress!r}; for one id write (id,)")
    suppress = torch.as_tensor(list(suppress), dtype=torch.long)
    if suppress.numel() and (suppress.min() < 0 or suppress.max() >= model.cfg.vocab_size):
        raise ValueError(f"suppress holds ids outside 0..{model.cfg.vocab_size - 1}: {suppress.tolist()}")
    if idx.shape[1] > L:
        warnings.warn(
            f"the prompt has {idx.shape[1]} tokens but the model's context_length is {L}: "
            f"it sees only the last {L} tokens of the prompt",
            stacklevel=2,
        )
    # Checked once above; the loop below picks each token without checking again.
    sampling = dict(temperature=temperature, top_k=top_k, top_p=top_p,
                    generator=generator, greedy=greedy)
    was_training = model.training
    model.eval()  # no dropout while generating
    try:
        out, cache = idx, None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits, _ = model(out[:, -L:])  # recompute the whole window
            elif cache is None or cache.length >= L:
                # Prefill: the prompt at first; when the cache is full, restart it
                # from the last L // 2 tokens (their positions have changed).
                keep = L if cache is None else max(1, L // 2)
                cache = KVCache()
                logits, _ = model(out[:, -keep:], cache=cache)
            else:
                logits, _ = model(out[:, -1:], cache=cache)  # only the newest token
            last = logits[:, -1, :]
            if suppress.numel():
                last = last.index_fill(-1, suppress.to(last.device), float("-inf"))
            next_id = _pick(last, **sampling)
            out = torch.cat([out, next_id], dim=1)
    finally:
        model.train(was_training)
    return out


def _check_model(model) -> None:
    """A model :func:`generate` can drive: an ``nn.Module`` with a ``cfg`` (a :class:`~shared.model.GPT`)."""
    if not isinstance(model, torch.nn.Module) or not hasattr(model, "cfg"):
        raise TypeError(f"model must be a shared.model.GPT (an nn.Module with a .cfg), got {type(model).__name__}")


def encode_prompt(prompt: str, vocab=None) -> torch.Tensor:
    """A text prompt -> model token ids ``(1, T)``: GPT-2 ids, then compact ids if
    ``vocab`` (a :class:`~shared.data.CompactVocab`) is given."""
    from .data import decode, encode

    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}")
    ids = encode(prompt)
    if not ids:
        raise ValueError("the prompt is empty: give at least one character to start from")
    if vocab is not None:
        known = set(vocab.ids)  # a token that only <unk> covers is refused: the model knows nothing of it
        missing = [i for i in ids if i not in known]
        if missing:
            pieces = ", ".join(repr(decode([i])) for i in dict.fromkeys(missing))
            raise ValueError(
                f"the prompt contains tokens the model's vocabulary lacks: {pieces}. "
                "The model only knows the tokens of its training text; rephrase the prompt"
            )
        ids = vocab.to_compact(ids).tolist()
    return torch.tensor([ids], dtype=torch.long)


def generate_text(model, prompt: str, *, vocab=None, max_new_tokens: int = 40, **settings) -> str:
    """Continue ``prompt`` by ``max_new_tokens`` tokens and return prompt + continuation.

    ``vocab`` is the model's :class:`~shared.data.CompactVocab` when its ids are
    compact ids (the book's model), ``None`` for a model over all GPT-2 ids; its
    ``<unk>`` output, if it has one, is never generated. Every
    other keyword argument goes to :func:`generate` unchanged: ``temperature``,
    ``top_k``, ``top_p``, ``greedy``, ``generator`` and ``use_cache``, with the
    same defaults and the same checks.
    """
    from .data import CompactVocab, decode

    if not settings.get("greedy", False):  # check before tokenizing, so the error names the real problem
        check_sampling_args(**{k: v for k, v in settings.items() if k in ("temperature", "top_k", "top_p")})
    _check_model(model)
    check_type(vocab, "vocab", (CompactVocab, type(None)), fix="pass the model's CompactVocab, or None for GPT-2 ids")
    idx = encode_prompt(prompt, vocab)
    n_ids = len(vocab) if vocab is not None else CompactVocab.GPT2_VOCAB_SIZE
    if n_ids != model.cfg.vocab_size:
        raise ValueError(f"the model has vocab_size={model.cfg.vocab_size} but "
                         + (f"vocab has {n_ids} ids: pass the vocabulary the model was trained with"
                            if vocab is not None else "GPT-2 has 50257 ids: pass the model's CompactVocab as vocab="))
    device = next(model.parameters()).device
    if vocab is not None and vocab.unk_id is not None:
        settings = {**settings, "suppress": (*settings.get("suppress", ()), vocab.unk_id)}
    out = generate(model, idx.to(device), max_new_tokens, **settings)[0].cpu()
    if vocab is not None:
        out = vocab.to_gpt2(out)
    return decode(out)

