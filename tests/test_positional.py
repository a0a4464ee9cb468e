"""Unit tests for the sinusoidal position table (Chapter 3, ``shared.model.sinusoidal_positions``)."""

import math

import pytest
import torch

from shared.model import GPT, GPTConfig, sinusoidal_positions


@pytest.mark.parametrize("context_length, d_model", [(1, 2), (16, 64), (50, 10), (1024, 768)])
def test_shape_dtype_and_unit_circle_pairs(context_length, d_model):
    table = sinusoidal_positions(context_length, d_model)
    assert table.shape == (context_length, d_model)
    assert table.dtype == torch.float32
    # Each (sin, cos) pair is a point on the unit circle, whatever the position and frequency.
    radius = table[:, 0::2] ** 2 + table[:, 1::2] ** 2
    torch.testing.assert_close(radius, torch.ones(context_length, d_model // 2))


def test_position_zero_is_sin0_cos0():
    table = sinusoidal_positions(8, 16)
    assert torch.equal(table[0, 0::2], torch.zeros(8))  # sin(0) in the even dimensions
    assert torch.equal(table[0, 1::2], torch.ones(8))  # cos(0) in the odd dimensions


def test_known_values():
    d_model = 8
    table = sinusoidal_positions(10, d_model)
    # Pair i = 0 turns one radian per position.
    assert table[1, 0].item() == pytest.approx(math.sin(1.0), abs=1e-6)
    assert table[1, 1].item() == pytest.approx(math.cos(1.0), abs=1e-6)
    # PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(...): pos = 7, i = 1.
    angle = 7 / 10000 ** (2 * 1 / d_model)
    assert table[7, 2].item() == pytest.approx(math.sin(angle), abs=1e-6)
    assert table[7, 3].item() == pytest.approx(math.cos(angle), abs=1e-6)
    # The last pair of d_model = 8 turns 1/1000 radian per position.
    assert table[9, 6].item() == pytest.approx(math.sin(9 / 1000), abs=1e-6)


def test_matches_double_loop():
    context_length, d_model = 40, 32
    table = sinusoidal_positions(context_length, d_model)
    for pos in range(context_length):
        for i in range(d_model // 2):
            angle = pos / 10000 ** (2 * i / d_model)
            assert table[pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


@pytest.mark.parametrize("d_model", [1, 7, 63])
def test_odd_d_model_rejected(d_model):
    with pytest.raises(ValueError, match="even"):
        sinusoidal_positions(16, d_model)


def test_prefix_of_longer_table():
    # A longer context only appends rows: position t has the same vector in both tables.
    assert torch.equal(sinusoidal_positions(64, 32)[:16], sinusoidal_positions(16, 32))


def test_dot_product_depends_only_on_distance():
    context_length, d_model = 64, 64
    table = sinusoidal_positions(context_length, d_model)
    dots = table @ table.T
    # Shifting both positions by one leaves the dot product unchanged (a Toeplitz matrix).
    assert (dots[1:, 1:] - dots[:-1, :-1]).abs().max() < 1e-4
    # And it equals sum_i cos(omega_i * (p - q)).
    omega = 10000 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    offsets = torch.arange(context_length, dtype=torch.float64)
    expected = torch.cos((offsets[:, None] - offsets[None, :])[..., None] * omega).sum(-1)
    assert torch.allclose(dots.double(), expected, atol=1e-4)
    # Every position vector has length sqrt(d_model / 2).
    assert torch.allclose(table.norm(dim=1), torch.full((context_length,), math.sqrt(d_model / 2)))


def test_shift_is_a_rotation():
    # PE[p + k] = R_k PE[p] with R_k block-diagonal 2x2 rotations, the same for every p.
    context_length, d_model, k = 32, 16, 3
    table = sinusoidal_positions(context_length, d_model)
    R = torch.zeros(d_model, d_model)
    for i in range(d_model // 2):
        a = k * 10000 ** (-2 * i / d_model)
        R[2 * i:2 * i + 2, 2 * i:2 * i + 2] = torch.tensor(
            [[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])
    assert torch.allclose(table[:-k] @ R.T, table[k:], atol=1e-5)


def test_model_uses_the_table():
    cfg = GPTConfig(vocab_size=50, context_length=8, d_model=16, n_heads=2, n_layers=1)
    model = GPT(cfg)
    assert torch.equal(model.pos_table, sinusoidal_positions(8, 16))
    assert torch.equal(model.positions(2, 5, "cpu"), sinusoidal_positions(8, 16)[2:7])
    # Not a parameter: sinusoidal positions are fixed, and not saved in the state dict.
    assert "pos_table" not in dict(model.named_parameters())
    assert "pos_table" not in model.state_dict()
