"""Unit tests for shared.induction: the repeated-random-tokens test for induction heads."""

import math

import pytest
import torch

from shared.induction import (
    half_losses,
    induction_scores,
    per_position_loss,
    previous_token_scores,
    repeated_random_tokens,
)
from shared.model import GPT, GPTConfig, all_attention_weights


def pattern(T: int, offset: int, start: int) -> torch.Tensor:
    """(T, T) causal attention: rows i >= start all on key i - offset, earlier rows uniform."""
    att = torch.ones(T, T).tril() / torch.arange(1, T + 1)[:, None]
    for i in range(start, T):
        att[i] = 0.0
        att[i, i - offset] = 1.0
    return att


def as_heads(*maps: torch.Tensor, batch: int = 3) -> torch.Tensor:
    """Stack (T, T) maps as the heads of one layer: (B, 1, n_heads, T, T)."""
    return torch.stack(maps)[None, None].expand(batch, 1, -1, -1, -1)


def induction_attention(ids: torch.Tensor) -> torch.Tensor:
    """A hand-wired induction head on token ids: query i attends evenly to every key j <= i
    whose previous token is token i (the token after an earlier copy), else to key 0."""
    B, T = ids.shape
    after_copy = torch.zeros(B, T, T)
    after_copy[:, :, 1:] = (ids[:, :, None] == ids[:, None, :-1]).float()
    after_copy = after_copy * torch.ones(T, T).tril()
    after_copy[:, :, 0] += after_copy.sum(-1) == 0  # nothing to copy: the first key
    return after_copy / after_copy.sum(-1, keepdim=True)  # (B, T, T)


def test_repeated_random_tokens_repeat_and_are_seeded():
    ids = repeated_random_tokens(6, 50, batch=4, generator=torch.Generator().manual_seed(0))
    assert ids.shape == (4, 12) and ids.dtype == torch.long
    assert torch.equal(ids[:, :6], ids[:, 6:])
    assert 0 <= ids.min() and ids.max() < 50
    again = repeated_random_tokens(6, 50, batch=4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(ids, again)
    with_start = repeated_random_tokens(6, 50, 4, torch.Generator().manual_seed(0), start_id=50)
    assert with_start.shape == (4, 13) and (with_start[:, 0] == 50).all()
    assert torch.equal(with_start[:, 1:], ids)


@pytest.mark.parametrize("prefix", [0, 1])
def test_scores_of_hand_built_patterns(prefix):
    n = 5
    T = prefix + 2 * n
    induction = pattern(T, offset=n - 1, start=prefix + n)
    previous = pattern(T, offset=1, start=1)
    uniform = torch.ones(T, T).tril() / torch.arange(1, T + 1)[:, None]
    scores = induction_scores(as_heads(induction, previous, uniform), n)
    assert scores.shape == (1, 3)
    assert scores[0, 0].item() == pytest.approx(1.0)
    assert scores[0, 1].item() == pytest.approx(0.0)
    queries = torch.arange(prefix + n, T)
    assert scores[0, 2].item() == pytest.approx((1 / (queries + 1)).mean().item())
    assert scores[0, 2] < 0.25
    prev = previous_token_scores(as_heads(induction, previous, uniform))
    assert prev[0, 1].item() == pytest.approx(1.0) and prev[0, 0] < 0.5


def test_hand_wired_induction_model():
    """A 'model' that copies through an induction head: score 1, and the second copy is easy."""
    n, V = 12, 200
    ids = repeated_random_tokens(n, V, batch=32, generator=torch.Generator().manual_seed(1))
    firsts = ids[:, :n]
    distinct = torch.tensor([row.unique().numel() == n for row in firsts])
    assert distinct.sum() > 10
    ids = ids[distinct]  # rows whose first copy has no repeated token: one earlier copy each
    att = induction_attention(ids)
    assert induction_scores(att[:, None, None], n).item() == pytest.approx(1.0)
    # Its prediction: the token the head attends to, mixed with a little of the uniform guess.
    copied = att @ torch.nn.functional.one_hot(ids, V).float()  # (B, T, V)
    logits = (0.9 * copied + 0.1 / V).log()
    first, second = half_losses(logits, ids, n)
    assert second < 0.2 < math.log(V) - 1 < first
    assert per_position_loss(logits, ids).shape == (2 * n - 1,)


def test_on_a_small_gpt():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=30, context_length=16, d_model=16, n_heads=2, n_layers=2)).eval()
    ids = repeated_random_tokens(8, 30, batch=5, generator=torch.Generator().manual_seed(0))
    scores = induction_scores(all_attention_weights(model, ids), 8)
    assert scores.shape == (2, 2) and ((scores >= 0) & (scores <= 1)).all()
    with torch.no_grad():
        logits, _ = model(ids)
    first, second = half_losses(logits, ids, 8)
    assert 0 < first and 0 < second


def test_errors_name_the_argument():
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="n_tokens"):
        repeated_random_tokens(1, 50, 2, g)
    with pytest.raises(TypeError, match="vocab_size"):
        repeated_random_tokens(4, 50.0, 2, g)
    with pytest.raises(ValueError, match="batch"):
        repeated_random_tokens(4, 50, 0, g)
    with pytest.raises(TypeError, match="generator"):
        repeated_random_tokens(4, 50, 2, 0)
    with pytest.raises(ValueError, match="start_id"):
        repeated_random_tokens(4, 50, 2, g, start_id=-1)
    with pytest.raises(TypeError, match="attention"):
        induction_scores([[0.5]], 4)
    with pytest.raises(ValueError, match=r"attention\[None\]"):
        induction_scores(torch.ones(2, 2, 8, 8), 4)  # no batch dimension
    with pytest.raises(ValueError, match="n_tokens"):
        induction_scores(torch.ones(1, 2, 2, 8, 8), 5)  # T = 8 < 2 * 5
    with pytest.raises(ValueError, match="logits"):
        per_position_loss(torch.ones(2, 8), torch.zeros(2, 8, dtype=torch.long))
    with pytest.raises(ValueError, match="ids"):
        per_position_loss(torch.ones(2, 8, 5), torch.zeros(2, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="n_tokens"):
        half_losses(torch.ones(2, 8, 5), torch.zeros(2, 8, dtype=torch.long), 5)
