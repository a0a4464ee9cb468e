"""Unit tests for shared/model.py: the GPT built in Chapters 2-6."""

from __future__ import annotations

import math

import pytest
import torch

from shared.model import GPT, Block, GPTConfig, KVCache, MultiHeadAttention, all_attention_weights

V = 97  # a small vocabulary keeps these tests fast


def small_config(**overrides) -> GPTConfig:
    settings = dict(vocab_size=V, context_length=12, d_model=32, n_heads=4, n_layers=2, dropout=0.0)
    settings.update(overrides)
    return GPTConfig(**settings)


def make_model(seed: int = 0, **overrides) -> GPT:
    torch.manual_seed(seed)
    return GPT(small_config(**overrides))


def random_ids(B: int, T: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(V, (B, T), generator=torch.Generator().manual_seed(seed))


# -- configuration ----------------------------------------------------------------------

def test_defaults_are_the_course_shape_over_gpt2_tokens():
    cfg = GPTConfig()
    assert (cfg.vocab_size, cfg.context_length, cfg.d_model, cfg.n_heads, cfg.n_layers) == (
        50257, 16, 64, 4, 8)
    assert cfg.d_head == 16 and cfg.ff_width == 256
    assert GPTConfig(d_ff=100).ff_width == 100


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(d_model=30, n_heads=4), "divisible by n_heads"),
        (dict(pos_embedding="rotary"), "pos_embedding"),
        (dict(activation="tanh"), "activation"),
    ],
)
def test_config_validation(overrides, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**overrides)


def test_sinusoidal_positions_need_even_d_model():
    with pytest.raises(ValueError, match="even"):
        GPT(small_config(d_model=15, n_heads=5))


def test_gpt2_config():
    cfg = GPTConfig.gpt2()
    assert (cfg.context_length, cfg.d_model, cfg.n_heads, cfg.n_layers) == (1024, 768, 12, 12)
    assert cfg.pos_embedding == "learned" and cfg.activation == "gelu" and cfg.tie_weights
    assert GPTConfig.gpt2(dropout=0.1).dropout == 0.1


# -- shapes and loss --------------------------------------------------------------------

@pytest.mark.parametrize("pos_embedding", ["sinusoidal", "learned"])
def test_logits_and_loss(pos_embedding):
    """Logits (B, T, vocab_size) for every position; the loss is their mean cross-entropy."""
    model = make_model(pos_embedding=pos_embedding).eval()
    idx, targets = random_ids(3, 7), random_ids(3, 7, seed=2)
    logits, loss = model(idx)
    assert logits.shape == (3, 7, V) and loss is None
    logits_too, loss = model(idx, targets=targets)
    assert torch.equal(logits_too, logits)  # targets change nothing but the loss
    expected = -torch.log_softmax(logits, -1).gather(-1, targets[..., None]).mean()
    torch.testing.assert_close(loss, expected)
    assert loss.shape == ()
    # Each row of a batch is computed on its own: the same sequence alone gives the same logits.
    torch.testing.assert_close(model(idx[1:2])[0], logits[1:2], atol=1e-6, rtol=0)


def test_block_is_pre_norm_residual():
    """Block(x) = x + attn(ln1(x)), then + ffn(ln2(.)); attention keeps the shape (B, T, C)."""
    cfg = small_config()
    torch.manual_seed(0)
    block = Block(cfg).eval()
    x = torch.randn(2, 5, cfg.d_model, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        h = x + block.attn(block.ln1(x))
        expected = h + block.ffn(block.ln2(h))
        assert block.attn(x).shape == x.shape
        torch.testing.assert_close(block(x), expected, atol=0, rtol=0)
        for p in (*block.attn.proj.parameters(), *block.ffn.proj.parameters()):
            p.zero_()  # both branches now add zero: the block passes x through unchanged
        torch.testing.assert_close(block(x), x, atol=0, rtol=0)
    assert MultiHeadAttention(cfg).attention_weights(x).shape == (2, cfg.n_heads, 5, 5)


def test_attention_weights_are_causal_distributions():
    cfg = small_config()
    w = MultiHeadAttention(cfg).attention_weights(torch.randn(2, 6, cfg.d_model))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, cfg.n_heads, 6))
    assert (w.triu(1) == 0).all()


@pytest.mark.parametrize("pos_embedding", ["sinusoidal", "learned"])
def test_all_attention_weights_are_the_forward_pass_maps(pos_embedding):
    """all_attention_weights gives, for every block, the weights of the attention that the
    forward pass runs: recompute them from each block's input, captured by a hook."""
    model = make_model(pos_embedding=pos_embedding, n_layers=3).eval()
    idx = random_ids(2, 9)
    inputs = []
    hooks = [block.attn.register_forward_pre_hook(lambda _m, args: inputs.append(args[0]))
             for block in model.blocks]
    model(idx)
    for hook in hooks:
        hook.remove()
    w = all_attention_weights(model, idx)
    assert w.shape == (2, 3, model.cfg.n_heads, 9, 9)
    for i, block in enumerate(model.blocks):
        torch.testing.assert_close(w[:, i], block.attn.attention_weights(inputs[i]), atol=1e-6, rtol=0)
        # and the weights times the values are what the heads output
        _, _, v = block.attn.split_heads(inputs[i])
        heads = (w[:, i] @ v).transpose(1, 2).reshape(2, 9, -1)
        torch.testing.assert_close(block.attn.proj(heads), block.attn(inputs[i]), atol=1e-5, rtol=0)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, model.cfg.n_heads, 9))
    assert (w.triu(1) == 0).all()


def test_all_attention_weights_needs_eval_mode():
    with pytest.raises(ValueError, match="eval"):
        all_attention_weights(make_model(dropout=0.1).train(), random_ids(1, 4))


def test_loss_at_init_is_uniform_guessing():
    model = make_model(vocab_size=5000, n_layers=4).eval()
    idx = torch.randint(5000, (8, 12), generator=torch.Generator().manual_seed(3))
    targets = torch.randint(5000, (8, 12), generator=torch.Generator().manual_seed(4))
    _, loss = model(idx, targets)
    assert abs(loss.item() - math.log(5000)) < 0.1


def test_num_params_counts_every_part():
    model = make_model()
    cfg = model.cfg
    C, F = cfg.d_model, cfg.ff_width
    block = (C * 3 * C + 3 * C) + (C * C + C) + (C * F + F) + (F * C + C) + 4 * C
    expected = V * C + cfg.n_layers * block + 2 * C + C * V  # sinusoidal positions: no parameters
    assert model.num_params() == expected
    assert make_model(pos_embedding="learned").num_params() == expected + cfg.context_length * C


def test_gpt2_parameter_count():
    with torch.device("meta"):  # shapes only: no memory, no time
        model = GPT(GPTConfig.gpt2())
    assert model.num_params() == 124_439_808


# -- the KV cache -----------------------------------------------------------------------

@pytest.mark.parametrize("pos_embedding", ["sinusoidal", "learned"])
def test_kv_cache_one_token_at_a_time(pos_embedding):
    model = make_model(pos_embedding=pos_embedding).eval()
    idx = random_ids(2, 12)
    full, _ = model(idx)
    cache = KVCache()
    prefill, _ = model(idx[:, :5], cache=cache)
    torch.testing.assert_close(prefill, full[:, :5], atol=1e-5, rtol=0)
    assert cache.length == 5
    for t in range(5, 12):
        step, _ = model(idx[:, t:t + 1], cache=cache)
        torch.testing.assert_close(step[:, 0], full[:, t], atol=1e-5, rtol=0)
    assert cache.length == 12


@pytest.mark.parametrize("pos_embedding", ["sinusoidal", "learned"])
def test_kv_cache_multi_token_chunk(pos_embedding):
    model = make_model(pos_embedding=pos_embedding).eval()
    idx = random_ids(2, 12)
    full, _ = model(idx)
    cache = KVCache()
    model(idx[:, :4], cache=cache)
    chunk, _ = model(idx[:, 4:9], cache=cache)  # five new tokens after four cached ones
    torch.testing.assert_close(chunk, full[:, 4:9], atol=1e-5, rtol=0)
    last, _ = model(idx[:, 9:], cache=cache)
    torch.testing.assert_close(last, full[:, 9:], atol=1e-5, rtol=0)
    assert cache.length == 12 and len(cache.keys) == model.cfg.n_layers
    assert cache.keys[0].shape == (2, model.cfg.n_heads, 12, model.cfg.d_head)


def test_too_long_input_raises_a_helpful_error():
    model = make_model().eval()
    with pytest.raises(ValueError, match=r"longer than context_length=12.*crop"):
        model(random_ids(1, 13))
    cache = KVCache()
    model(random_ids(1, 10), cache=cache)
    with pytest.raises(ValueError, match="13 tokens is longer than context_length=12"):
        model(random_ids(1, 3), cache=cache)


# -- switches ---------------------------------------------------------------------------

def test_tie_weights_shares_storage():
    model = make_model(tie_weights=True)
    assert model.head.weight is model.tok_emb.weight
    assert model.head.weight.data_ptr() == model.tok_emb.weight.data_ptr()
    untied = make_model(tie_weights=False)
    assert untied.head.weight.data_ptr() != untied.tok_emb.weight.data_ptr()
    assert untied.num_params() - model.num_params() == V * model.cfg.d_model  # counted once
    with torch.no_grad():
        model.tok_emb.weight[0, 0] = 123.0
    assert model.head.weight[0, 0].item() == 123.0


def test_dropout_is_off_in_eval_mode():
    model = make_model(dropout=0.5)
    idx = random_ids(2, 8)
    model.eval()
    torch.testing.assert_close(model(idx)[0], model(idx)[0], atol=0, rtol=0)
    model.train()
    torch.manual_seed(0)
    a = model(idx)[0]
    b = model(idx)[0]
    assert not torch.allclose(a, b)


def test_causal_model_ignores_the_future():
    model = make_model().eval()
    idx = random_ids(2, 10)
    changed = idx.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % V
    torch.testing.assert_close(model(idx)[0][:, :6], model(changed)[0][:, :6], atol=1e-6, rtol=0)


def test_causal_false_changes_the_outputs():
    causal = make_model(seed=5).eval()
    bidirectional = make_model(seed=5, causal=False).eval()
    bidirectional.load_state_dict(causal.state_dict())
    idx = random_ids(2, 10)
    a, b = causal(idx)[0], bidirectional(idx)[0]
    assert not torch.allclose(a, b, atol=1e-4)
    assert not torch.allclose(a[:, 0], b[:, 0], atol=1e-4)  # the first token now sees the rest


def test_non_causal_cache_chunk_sees_every_new_token():
    model = make_model(causal=False, n_layers=1).eval()  # one layer: cached keys match
    idx = random_ids(1, 8)
    cache = KVCache()
    model(idx[:, :3], cache=cache)
    chunk, _ = model(idx[:, 3:], cache=cache)
    full, _ = model(idx)  # without the mask every new token attends to all eight
    torch.testing.assert_close(chunk, full[:, 3:], atol=1e-5, rtol=0)


@pytest.mark.parametrize("overrides", [dict(), dict(pos_embedding="learned", activation="gelu",
                                                    tie_weights=True)])
def test_gradient_reaches_every_parameter(overrides):
    model = make_model(**overrides)
    idx = random_ids(4, 12)
    _, loss = model(idx, targets=random_ids(4, 12, seed=9))
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, f"no gradient for {name}"
        assert p.grad.abs().sum() > 0, f"zero gradient for {name}"


def test_residual_projections_use_scaled_init():
    model = make_model(n_layers=8)
    expected = 0.02 / math.sqrt(2 * 8)
    for block in model.blocks:
        for w in (block.attn.proj.weight, block.ffn.proj.weight):
            assert abs(w.std().item() - expected) < 0.3 * expected


def test_config_is_frozen():
    import dataclasses

    cfg = GPTConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_layers = 2  # type: ignore[misc]
    assert dataclasses.replace(cfg, n_layers=2).n_layers == 2 and cfg.n_layers == 8
