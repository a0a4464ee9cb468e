"""Bits per byte (shared.evaluation): the metric that compares models across tokenizers."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from shared import set_seed
from shared.data import CompactVocab
from shared.evaluation import bits_per_byte, token_log_probs
from shared.model import GPT, GPTConfig


class Bigram(nn.Module):
    """A model whose logits for the next token are a fixed row per current token."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.table = nn.Parameter(table)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.table[x]  # (B, T, V), no loss: bits_per_byte takes logits alone too


def test_hand_computed_toy():
    # p(next | 0) = (3/4, 1/4), p(next | 1) = (1/2, 1/2); the text 0 1 1 0 scores its last three tokens.
    table = torch.log(torch.tensor([[0.75, 0.25], [0.5, 0.5]]))
    ids = torch.tensor([0, 1, 1, 0])
    expected_bits = -(math.log2(0.25) + math.log2(0.5) + math.log2(0.5))  # 2 + 1 + 1 = 4 bits
    assert bits_per_byte(Bigram(table), ids, n_bytes=8, context_length=4) == pytest.approx(expected_bits / 8)
    # first=2: token 1 is context only, so only the last two tokens (2 bits) count.
    assert bits_per_byte(Bigram(table), ids, n_bytes=2, context_length=4, first=2) == pytest.approx(1.0)


@pytest.mark.parametrize("V,context_length,n", [(7, 4, 30), (50, 16, 5), (3, 1, 12)])
def test_uniform_model_scores_log2_vocab_per_token(V, context_length, n):
    model = Bigram(torch.zeros(V, V))
    ids = torch.randint(0, V, (n,), generator=torch.Generator().manual_seed(0))
    n_bytes = 3 * n
    expected = math.log2(V) * (n - 1) / n_bytes
    assert bits_per_byte(model, ids, n_bytes, context_length) == pytest.approx(expected, rel=1e-6)


def test_every_token_once_with_the_context_the_window_allows():
    set_seed(0)
    cfg = GPTConfig(vocab_size=11, context_length=5, d_model=8, n_heads=2, n_layers=1, dropout=0.0)
    model = GPT(cfg).eval()
    ids = torch.randint(0, 11, (23,), generator=torch.Generator().manual_seed(1))
    got = token_log_probs(model, ids, cfg.context_length, batch_size=4)
    assert got.shape == (22,)  # tokens 1..22, each once
    with torch.no_grad():  # brute force: token i predicted from the (up to) 5 tokens before it
        want = [torch.log_softmax(model(ids[max(0, i - 5):i][None])[0][0, -1], -1)[ids[i]] for i in range(1, 23)]
    torch.testing.assert_close(got, torch.stack(want), rtol=1e-5, atol=1e-6)
    assert model.training is False


def test_probabilities_over_the_full_vocabulary_sum_to_one():
    # A compact vocabulary with <unk>: the probability of every possible next GPT-2 id sums to 1.
    vocab = CompactVocab((5, 17, 300, 4000), unk=True)
    set_seed(0)
    model = GPT(GPTConfig(vocab_size=len(vocab), context_length=4, d_model=8, n_heads=2, n_layers=1,
                          dropout=0.0)).eval()
    context = torch.tensor([0, 3, 1])
    probs = torch.stack([token_log_probs(model, torch.cat([context, torch.tensor([c])]), 4, first=3,
                                         vocab=vocab)[0].exp() for c in range(len(vocab))])
    total = probs[:-1].sum() + probs[-1] * vocab.n_unk_ids  # each of the n_unk_ids ids gets p(<unk>)/n
    assert float(total) == pytest.approx(1.0, abs=1e-5)


def test_bad_arguments_name_themselves():
    model = Bigram(torch.zeros(3, 3))
    with pytest.raises(ValueError, match="n_bytes"):
        bits_per_byte(model, torch.tensor([0, 1, 2]), 0, 4)
    with pytest.raises(ValueError, match="first"):
        bits_per_byte(model, torch.tensor([0, 1, 2]), 3, 4, first=3)
    with pytest.raises(TypeError, match="ids"):
        bits_per_byte(model, torch.tensor([[0, 1, 2]]), 3, 4)
    with pytest.raises(TypeError, match="ids"):
        bits_per_byte(model, torch.tensor([0.0, 1.0]), 3, 4)
    with pytest.raises(ValueError, match="context_length"):
        bits_per_byte(model, torch.tensor([0, 1, 2]), 3, 0)
