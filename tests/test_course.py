"""bench/course.py is the original course's program: its published facts, checked."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from bench import course
from shared.book import scored_text


@pytest.fixture(scope="module")
def tokens() -> torch.Tensor:
    return course.course_tokens()


@pytest.fixture(scope="module")
def model(tokens) -> course.CourseModel:
    torch.manual_seed(course.SEED)
    return course.CourseModel(int(tokens.max()))


def test_the_course_tokenizer_is_cl100k_base(tokens):
    enc = course.course_encoding()
    assert enc.encode("hello world") == [15339, 1917]  # published cl100k_base ids
    assert len(tokens) == 77_919 and int(tokens.max()) == 100_069
    assert enc.decode(tokens.tolist()[:50]) == scored_text()[0][:len(enc.decode(tokens.tolist()[:50]))]


def test_parameter_count_and_shapes(model):
    assert sum(p.numel() for p in model.parameters()) == 13_307_558
    assert model.tok_emb.weight.shape == (100_071, 64)  # max_id + 2 rows
    assert model.head.weight.shape == (100_070, 64) and model.head.bias is not None  # max_id + 1, with bias
    assert model.head.weight.data_ptr() != model.tok_emb.weight.data_ptr()  # not tied
    assert len(model.blocks) == 8
    attn = model.blocks[0].attn
    assert len(attn.heads) == 4 and attn.heads[0].q.weight.shape == (16, 64)
    assert all(h.q.bias is None and h.k.bias is None and h.v.bias is None for h in attn.heads)
    assert attn.proj.bias is not None
    ffn = model.blocks[0].ffn
    assert [type(m) for m in ffn] == [nn.Linear, nn.ReLU, nn.Linear, nn.Dropout] and ffn[0].out_features == 256
    assert all(m.p == 0.1 for m in model.modules() if isinstance(m, nn.Dropout))


def test_pytorch_default_initialisation(model):
    # nn.Embedding's default is N(0, 1): the embeddings are 50 times the book's 0.02.
    assert model.tok_emb.weight.std().item() == pytest.approx(1.0, abs=0.01)
    # nn.Linear's default is uniform in +-1/sqrt(fan_in) = +-0.125 for 64 inputs.
    assert model.head.weight.abs().max().item() <= 0.125
    assert model.head.weight.std().item() == pytest.approx(0.125 / math.sqrt(3), rel=0.02)


def test_sinusoidal_positions_added_unscaled(model):
    pe = model.pos
    assert pe.shape == (16, 64)
    assert pe[3, 0].item() == pytest.approx(math.sin(3)) and pe[3, 1].item() == pytest.approx(math.cos(3))
    assert pe[5, 10].item() == pytest.approx(math.sin(5 / 10000 ** (10 / 64)), abs=1e-6)
    ids = torch.tensor([[7, 8, 9]])
    seen = []
    hook = model.blocks.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    try:
        model.eval()(ids)
    finally:
        hook.remove()
    torch.testing.assert_close(seen[0], model.tok_emb(ids) + pe[:3])  # no sqrt(d_model) scaling


def test_a_few_steps_are_deterministic_and_decay_every_parameter(monkeypatch):
    made = []
    real = torch.optim.AdamW

    def spy(params, **kw):
        opt = real(params, **kw)
        made.append(opt)
        return opt

    monkeypatch.setattr(torch.optim, "AdamW", spy)
    monkeypatch.setattr(course, "course_bits_per_byte", lambda model, part="validation": 0.0)
    m1, r1 = course.train_course(steps=3, score_every=10, log=lambda s: None)
    m2, r2 = course.train_course(steps=3, score_every=10, log=lambda s: None, estimate_forward=True)
    opt = made[0]
    assert len(opt.param_groups) == 1 and opt.param_groups[0]["weight_decay"] == 0.01
    assert opt.param_groups[0]["betas"] == (0.9, 0.999) and opt.param_groups[0]["lr"] == 1e-3
    assert len(opt.param_groups[0]["params"]) == len(list(m1.parameters()))
    assert r1["step"] == [0, 3] and len(r1["course_loss"]) == 2  # estimated at step 0 and the last step
    assert r1["course_loss"][0][1]["train"] is None and r2["course_loss"][0][1]["train"] > 10  # ln 100,070 = 11.5
    # Skipping the estimates' forward passes changes nothing: the same weights, bit for bit.
    for a, b in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(a, b)
