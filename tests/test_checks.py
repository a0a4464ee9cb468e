"""Every check in shared/checks.py accepts the book's own code and rejects a typical mistake."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from shared import checks, data
from shared.generation import next_token_probs
from shared.model import sinusoidal_positions
from shared.training import lr_at


def rejects(check, fn, *fragments: str) -> str:
    """Run ``check(fn)``, expect an AssertionError and return its message."""
    with pytest.raises(AssertionError) as info:
        check(fn)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def accepts(check, fn, capsys) -> None:
    check(fn)
    assert "passed" in capsys.readouterr().out


# --------------------------------------------------------------------------- Chapter 1


def test_merge_pair(capsys):
    accepts(checks.check_merge_pair, checks.reference_merge_pair, capsys)

    def overlapping(symbols, pair):  # merges every position, so 'aaa' gives ['aa', 'aa']
        out = []
        for i, s in enumerate(symbols):
            if i + 1 < len(symbols) and (s, symbols[i + 1]) == pair:
                out.append(s + symbols[i + 1])
            elif not (i > 0 and (symbols[i - 1], s) == pair):
                out.append(s)
        return out

    rejects(checks.check_merge_pair, overlapping, "overlapping")

    def first_only(symbols, pair):  # stops after the first occurrence
        for i in range(len(symbols) - 1):
            if (symbols[i], symbols[i + 1]) == pair:
                return symbols[:i] + [symbols[i] + symbols[i + 1]] + symbols[i + 2:]
        return symbols

    rejects(checks.check_merge_pair, first_only, "two occurrences")


def test_decode(capsys):
    accepts(checks.check_decode, data.decode, capsys)
    enc = data.get_tokenizer()
    rejects(checks.check_decode, lambda ids: "".join(enc.decode([i]) for i in ids), "emoji")
    rejects(checks.check_decode, lambda ids: enc.decode(ids).strip(), "expected")


# --------------------------------------------------------------------------- Chapters 2 and 3


def test_embedding(capsys):
    accepts(checks.check_embedding, lambda ids, W: W[ids], capsys)
    accepts(checks.check_embedding, lambda ids, W: F.one_hot(ids, W.shape[0]).to(W.dtype) @ W, capsys)
    # one_hot without num_classes sizes the one-hot vectors by the largest id in the batch
    rejects(checks.check_embedding, lambda ids, W: F.one_hot(ids).float() @ W, "raised")
    rejects(checks.check_embedding, lambda ids, W: W[ids - 1], "differs")


def test_sinusoidal_positions(capsys):
    accepts(checks.check_sinusoidal_positions, sinusoidal_positions, capsys)

    def swapped(T, d):  # cosines in the even dimensions
        return sinusoidal_positions(T, d).view(T, d // 2, 2).flip(-1).reshape(T, d)

    def not_interleaved(T, d):  # all sines, then all cosines
        pe = sinusoidal_positions(T, d)
        return torch.cat([pe[:, 0::2], pe[:, 1::2]], dim=1)

    def i_not_2i(T, d):  # 10000 ** (i / d_model) instead of 10000 ** (2i / d_model)
        angle = torch.arange(T)[:, None] / 10000.0 ** (torch.arange(d // 2) / d)
        return torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(T, d)

    for wrong in (swapped, not_interleaved, i_not_2i):
        rejects(checks.check_sinusoidal_positions, wrong, "differs")


# --------------------------------------------------------------------------- Chapters 4 and 5


def attention(q, k, v):  # Chapter 4's version
    weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(dim=-1)
    return weights @ v, weights


def causal_attention(q, k, v):  # Chapter 5's version
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    return scores.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v


def test_attention(capsys):
    accepts(checks.check_attention, attention, capsys)
    accepts(checks.check_attention, F.scaled_dot_product_attention, capsys)
    rejects(checks.check_attention, lambda q, k, v: (q @ k.transpose(-2, -1)).softmax(-1) @ v, "differs")
    rejects(checks.check_attention,
            lambda q, k, v: (q @ k.transpose(-2, -1) / q.shape[-1]).softmax(-1) @ v, "differs")
    rejects(checks.check_attention,
            lambda q, k, v: (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-2) @ v, "differs")

    def naive_exp(q, k, v):  # exp without subtracting the maximum overflows
        e = torch.exp(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]))
        return e / e.sum(-1, keepdim=True) @ v

    rejects(checks.check_attention, naive_exp, "large scores", "NaN or infinity")
    # transpose(0, 1) turns a (T, d_head) matrix, but swaps the batch and token axes of a batch
    rejects(checks.check_attention,
            lambda q, k, v: (q @ k.transpose(0, 1) / math.sqrt(q.shape[-1])).softmax(-1) @ v,
            "a batch", "raised")


def test_causal_attention(capsys):
    accepts(checks.check_causal_attention, causal_attention, capsys)

    def wrong_triangle(q, k, v):
        T = q.shape[-2]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).tril(-1), float("-inf")).softmax(-1) @ v

    def zero_not_inf(q, k, v):  # masked scores set to 0, which still gets weight
        T = q.shape[-2]
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        return scores.masked_fill(~torch.ones(T, T, dtype=torch.bool).tril(), 0.0).softmax(-1) @ v

    rejects(checks.check_causal_attention, wrong_triangle, "differs")
    rejects(checks.check_causal_attention, zero_not_inf, "differs")
    rejects(checks.check_causal_attention, attention, "differs")  # no mask at all


# --------------------------------------------------------------------------- Chapter 6


def test_layer_norm(capsys):
    accepts(checks.check_layer_norm, lambda x, w, b, eps: F.layer_norm(x, x.shape[-1:], w, b, eps), capsys)

    def inline(x, w, b, eps):  # Chapter 6's LayerNormInline
        mean, var = x.mean(-1, keepdim=True), x.var(-1, keepdim=True, unbiased=False)
        return w * (x - mean) / torch.sqrt(var + eps) + b

    accepts(checks.check_layer_norm, inline, capsys)
    rejects(checks.check_layer_norm,
            lambda x, w, b, eps: w * (x - x.mean(-1, keepdim=True)) / torch.sqrt(x.var(-1, keepdim=True) + eps) + b,
            "differs")  # unbiased variance
    def eps_outside(x, w, b, eps):  # eps added to the standard deviation, not the variance
        return w * (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True, unbiased=False) + eps) + b

    rejects(checks.check_layer_norm, eps_outside, "nearly constant")
    rejects(checks.check_layer_norm, lambda x, w, b, eps: (x - x.mean(-1, keepdim=True))
            / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + eps), "differs")  # no scale and shift


# --------------------------------------------------------------------------- Chapter 7


def test_lr_at(capsys):
    accepts(checks.check_lr_at, lr_at, capsys)

    def off_by_one(step, cfg):  # warm-up starts at 0, so the first update does nothing
        if step < cfg.warmup_steps:
            return cfg.lr * step / cfg.warmup_steps
        return lr_at(step, cfg)

    def no_floor(step, cfg):  # decays to 0 instead of min_lr
        if step < cfg.warmup_steps:
            return cfg.lr * (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, cfg.steps - 1 - cfg.warmup_steps)
        return 0.5 * cfg.lr * (1 + math.cos(math.pi * progress))

    rejects(checks.check_lr_at, off_by_one, "step 0")
    rejects(checks.check_lr_at, no_floor, "expected")


def test_cross_entropy(capsys):
    accepts(checks.check_cross_entropy, F.cross_entropy, capsys)
    accepts(checks.check_cross_entropy,
            lambda z, y: -z.log_softmax(-1).gather(-1, y[:, None]).mean(), capsys)
    rejects(checks.check_cross_entropy, lambda z, y: -(z.exp() / z.exp().sum(-1, keepdim=True))
            .log().gather(-1, y[:, None]).mean(), "large logits")  # no max subtracted
    rejects(checks.check_cross_entropy, lambda z, y: F.cross_entropy(z, y, reduction="sum"), "differs")
    rejects(checks.check_cross_entropy,
            lambda z, y: -z.log_softmax(-1).gather(-1, y[:, None]).mean() / math.log(2), "differs")  # bits


# --------------------------------------------------------------------------- Chapter 8


def test_top_k(capsys):
    accepts(checks.check_top_k, lambda p, k: next_token_probs(p.log(), top_k=k), capsys)

    def chapter_8(probs, k):
        kth = probs.topk(k, dim=-1).values[..., -1:]
        kept = torch.where(probs >= kth, probs, torch.zeros_like(probs))
        return kept / kept.sum(dim=-1, keepdim=True)

    accepts(checks.check_top_k, chapter_8, capsys)

    def not_renormalised(probs, k):
        kth = probs.topk(k, dim=-1).values[..., -1:]
        return torch.where(probs >= kth, probs, torch.zeros_like(probs))

    def strictly_greater(probs, k):  # keeps k - 1 tokens
        kth = probs.topk(k, dim=-1).values[..., -1:]
        kept = torch.where(probs > kth, probs, torch.zeros_like(probs))
        return kept / kept.sum(dim=-1, keepdim=True)

    rejects(checks.check_top_k, not_renormalised, "differs")
    rejects(checks.check_top_k, strictly_greater, "k=1")


def test_top_p(capsys):
    def chapter_8(probs, p):
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        mass_above = sorted_probs.cumsum(dim=-1) - sorted_probs
        sorted_kept = torch.where(mass_above < p, sorted_probs, torch.zeros_like(sorted_probs))
        kept = torch.zeros_like(probs).scatter(-1, order, sorted_kept)
        return kept / kept.sum(dim=-1, keepdim=True)

    accepts(checks.check_top_p, chapter_8, capsys)

    def drops_crossing_token(probs, p):  # keeps only tokens whose running total stays <= p
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        sorted_kept = torch.where(sorted_probs.cumsum(-1) <= p, sorted_probs, torch.zeros_like(sorted_probs))
        kept = torch.zeros_like(probs).scatter(-1, order, sorted_kept)
        return kept / kept.sum(dim=-1, keepdim=True)

    rejects(checks.check_top_p, drops_crossing_token)

    def unsorted(probs, p):  # running total in vocabulary order, not by probability
        mass_above = probs.cumsum(dim=-1) - probs
        kept = torch.where(mass_above < p, probs, torch.zeros_like(probs))
        return kept / kept.sum(dim=-1, keepdim=True)

    rejects(checks.check_top_p, unsorted, "shuffled order")


# --------------------------------------------------------------------------- Chapter 9


def test_conv1d_to_linear(capsys):
    def right(weight, bias):
        linear = nn.Linear(*weight.shape)
        with torch.no_grad():
            linear.weight.copy_(weight.T)
            linear.bias.copy_(bias)
        return linear

    accepts(checks.check_conv1d_to_linear, right, capsys)

    def no_transpose(weight, bias):  # fits a square weight, silently wrong
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(bias[: weight.shape[0]])
        return linear

    rejects(checks.check_conv1d_to_linear, no_transpose, "square", "differs")
    rejects(checks.check_conv1d_to_linear, lambda w, b: (w, b), "expected an nn.Linear")


def test_every_check_is_tested():
    tested = {name for name in globals() if name.startswith("test_")}
    for name in checks.__all__:
        assert f"test_{name.removeprefix('check_')}" in tested, f"{name} has no test"


def test_reference_merge_pair():
    """The book's merge step (also used by scripts/figures/): left to right, no overlaps."""
    assert checks.reference_merge_pair(list("aaab"), ("a", "a")) == ["aa", "a", "b"]
    assert checks.reference_merge_pair([" s", "e", "l", "l"], ("l", "l")) == [" s", "e", "ll"]
    assert checks.reference_merge_pair([], ("a", "b")) == []
