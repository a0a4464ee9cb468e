"""Unit tests for the single-head and causal behaviour of shared.model.MultiHeadAttention
(Chapters 4 and 5): it computes softmax(Q K^T / sqrt(d_head)) V, masks the future,
and its attention weights are proper distributions over the allowed keys."""

import math

import pytest
import torch
import torch.nn.functional as F

from shared.model import GPT, GPTConfig, MultiHeadAttention


def make_attention(n_heads=1, causal=True, d_model=32, bias=True, seed=0):
    torch.manual_seed(seed)
    cfg = GPTConfig(d_model=d_model, n_heads=n_heads, causal=causal, dropout=0.0, bias=bias)
    return MultiHeadAttention(cfg).eval()


def explicit_attention(mha, x, causal):
    """softmax(Q K^T / sqrt(d_head)) V written out by hand, then the output projection."""
    B, T, C = x.shape
    q, k, v = mha.qkv(x).split(C, dim=2)
    # (B, T, C) -> (B, n_heads, T, d_head)
    q, k, v = (t.reshape(B, T, mha.n_heads, mha.d_head).permute(0, 2, 1, 3) for t in (q, k, v))
    scores = torch.einsum("bhtd,bhsd->bhts", q, k) / math.sqrt(mha.d_head)
    if causal:
        allowed = torch.tensor([[s <= t for s in range(T)] for t in range(T)])
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    weights = weights / weights.sum(dim=-1, keepdim=True)
    y = torch.einsum("bhts,bhsd->bhtd", weights, v)
    y = y.permute(0, 2, 1, 3).reshape(B, T, C)
    return mha.proj(y), weights


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n_heads", [1, 4])
def test_forward_matches_explicit_softmax(causal, n_heads):
    mha = make_attention(n_heads=n_heads, causal=causal)
    x = torch.randn(2, 7, 32, generator=torch.Generator().manual_seed(1))
    expected, _ = explicit_attention(mha, x, causal)
    with torch.no_grad():
        assert torch.allclose(mha(x), expected, atol=1e-5)


@pytest.mark.parametrize("causal", [True, False])
def test_attention_weights_match_explicit_softmax(causal):
    mha = make_attention(n_heads=4, causal=causal)
    x = torch.randn(3, 6, 32, generator=torch.Generator().manual_seed(2))
    _, expected = explicit_attention(mha, x, causal)
    weights = mha.attention_weights(x)
    assert weights.shape == (3, 4, 6, 6)
    assert torch.allclose(weights, expected, atol=1e-6)


def test_single_head_is_scaled_dot_product_attention():
    """With one head, d_head = d_model and the module is F.scaled_dot_product_attention
    applied to its own q, k, v, followed by proj."""
    mha = make_attention(n_heads=1, causal=True, bias=False)
    assert mha.d_head == 32
    x = torch.randn(1, 9, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        q, k, v = mha.split_heads(x)  # (1, 1, 9, 32) each
        expected = mha.proj(F.scaled_dot_product_attention(q, k, v, is_causal=True)[:, 0])
        assert torch.allclose(mha(x), expected, atol=1e-6)


@pytest.mark.parametrize("n_heads", [1, 4])
def test_causal_weights_rows_sum_to_one_and_zero_above_diagonal(n_heads):
    mha = make_attention(n_heads=n_heads, causal=True)
    T = 8
    weights = mha.attention_weights(torch.randn(2, T, 32, generator=torch.Generator().manual_seed(4)))
    assert torch.allclose(weights.sum(dim=-1), torch.ones(2, n_heads, T), atol=1e-6)
    assert (weights >= 0).all()
    future = torch.ones(T, T, dtype=torch.bool).triu(diagonal=1)
    assert (weights[..., future] == 0).all()
    assert (weights[..., ~future] > 0).all()  # every allowed key gets some weight
    assert torch.equal(weights[..., 0, 0], torch.ones(2, n_heads))  # token 0 sees only itself


def test_non_causal_weights_use_every_key():
    mha = make_attention(n_heads=2, causal=False)
    weights = mha.attention_weights(torch.randn(1, 5, 32, generator=torch.Generator().manual_seed(5)))
    assert torch.allclose(weights.sum(dim=-1), torch.ones(1, 2, 5), atol=1e-6)
    assert (weights > 0).all()  # nothing is masked


@pytest.mark.parametrize("changed", [0, 3, 6])
def test_future_tokens_do_not_affect_past_outputs(changed):
    mha = make_attention(n_heads=4, causal=True)
    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 7, 32, generator=g)
    x_changed = x.clone()
    x_changed[:, changed] = torch.randn(2, 32, generator=g)
    with torch.no_grad():
        before, after = mha(x), mha(x_changed)
    assert torch.equal(before[:, :changed], after[:, :changed])  # exactly unchanged
    assert not torch.allclose(before[:, changed:], after[:, changed:], atol=1e-4)


def test_without_the_mask_the_future_leaks():
    mha = make_attention(n_heads=4, causal=False)
    g = torch.Generator().manual_seed(7)
    x = torch.randn(1, 7, 32, generator=g)
    x_changed = x.clone()
    x_changed[:, -1] = torch.randn(32, generator=g)
    with torch.no_grad():
        change = (mha(x) - mha(x_changed)).abs().amax(dim=-1)  # (1, T)
    assert (change > 1e-4).all()  # every position sees the last token


def test_single_token_attends_to_itself():
    """T = 1: the output is the token's own value, projected (no mask is needed)."""
    mha = make_attention(n_heads=4, causal=True)
    x = torch.randn(2, 1, 32, generator=torch.Generator().manual_seed(8))
    with torch.no_grad():
        _, _, v = mha.split_heads(x)  # (2, n_heads, 1, d_head)
        expected = mha.proj(v.transpose(1, 2).reshape(2, 1, 32))
        assert torch.allclose(mha(x), expected, atol=1e-6)
    assert torch.equal(mha.attention_weights(x), torch.ones(2, 4, 1, 1))


@pytest.mark.parametrize("causal", [True, False])
def test_gpt_is_causal_through_every_layer(causal):
    torch.manual_seed(9)
    cfg = GPTConfig(vocab_size=50, context_length=8, d_model=16, n_heads=2, n_layers=3,
                    dropout=0.0, causal=causal)
    model = GPT(cfg).eval()
    idx = torch.randint(0, 50, (2, 8), generator=torch.Generator().manual_seed(10))
    changed = idx.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 50
    with torch.no_grad():
        a, _ = model(idx)
        b, _ = model(changed)
    unchanged_before = torch.allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert unchanged_before == causal
