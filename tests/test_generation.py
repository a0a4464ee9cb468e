"""Unit tests for shared.generation: the sampling filters, the generation loop,
the KV cache and every input the generator must refuse."""

import itertools

import pytest
import torch

from shared import set_seed
from shared.data import CompactVocab, decode, encode
from shared.generation import (
    encode_prompt,
    generate,
    generate_text,
    next_token_probs,
    sample_next,
)
from shared.model import GPT, GPTConfig, KVCache


@pytest.fixture(scope="module")
def model():
    set_seed(0)
    return GPT(GPTConfig(vocab_size=50, context_length=24, d_model=32, n_heads=4, n_layers=2)).eval()


@pytest.fixture(scope="module")
def logits():
    return torch.randn(3, 50, generator=torch.Generator().manual_seed(1)) * 2


# --- next_token_probs ---------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    {}, {"temperature": 0.5}, {"temperature": 3.0}, {"top_k": 1}, {"top_k": 7},
    {"top_p": 0.3}, {"top_p": 1.0}, {"top_k": 10, "top_p": 0.8, "temperature": 0.7},
])
def test_probs_are_a_distribution(logits, settings):
    probs = next_token_probs(logits, **settings)
    assert probs.shape == logits.shape
    assert (probs >= 0).all()
    torch.testing.assert_close(probs.sum(-1), torch.ones(3))


def test_plain_softmax(logits):
    torch.testing.assert_close(next_token_probs(logits), torch.softmax(logits, -1))
    torch.testing.assert_close(next_token_probs(logits, temperature=2.0), torch.softmax(logits / 2, -1))


@pytest.mark.parametrize("k", [1, 5, 49, 50, 100])
def test_top_k_keeps_k(logits, k):
    probs = next_token_probs(logits, top_k=k)
    assert ((probs > 0).sum(-1) == min(k, 50)).all()
    kept = probs > 0
    top = logits.topk(min(k, 50), dim=-1).indices
    assert kept.gather(-1, top).all()  # the k kept tokens are the k most likely


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9, 0.999])
def test_top_p_keeps_the_minimal_set(logits, p):
    full = torch.softmax(logits, -1)
    probs = next_token_probs(logits, top_p=p)
    for row in range(3):
        kept = probs[row] > 0
        n = int(kept.sum())
        ranked = full[row].sort(descending=True).values
        assert kept[full[row].argsort(descending=True)[:n]].all()  # the most likely ones
        assert ranked[:n].sum() >= p - 1e-6  # enough mass ...
        assert n == 1 or ranked[: n - 1].sum() < p  # ... and one fewer would not be
        torch.testing.assert_close(probs[row][kept], full[row][kept] / full[row][kept].sum())


def test_top_p_exact_boundary():
    probs = next_token_probs(torch.log(torch.tensor([0.5, 0.25, 0.125, 0.125])), top_p=0.75)
    torch.testing.assert_close(probs, torch.tensor([2 / 3, 1 / 3, 0.0, 0.0]))


def test_matches_hugging_face_warpers(logits):
    from transformers.generation.logits_process import (
        TemperatureLogitsWarper,
        TopKLogitsWarper,
        TopPLogitsWarper,
    )
    scores = TemperatureLogitsWarper(0.8)(None, logits.clone())
    scores = TopKLogitsWarper(12)(None, scores)
    scores = TopPLogitsWarper(0.7)(None, scores)
    expected = torch.softmax(scores, -1)
    torch.testing.assert_close(next_token_probs(logits, temperature=0.8, top_k=12, top_p=0.7), expected)


def test_small_temperature_approaches_greedy(logits):
    probs = next_token_probs(logits, temperature=1e-3)
    assert torch.equal(probs.argmax(-1), logits.argmax(-1))
    close_call = next_token_probs(torch.tensor([1.0, 3.0, 2.9, -1.0]), temperature=0.01)
    assert close_call[1] > 0.999  # even a lead of 0.1 in the logits wins almost surely
    spread = [next_token_probs(logits, temperature=t).max(-1).values.mean() for t in (2.0, 1.0, 0.5, 0.1)]
    assert all(a < b for a, b in itertools.pairwise(spread))


# --- sampling and the loop ------------------------------------------------------------

def test_greedy_is_argmax(logits):
    assert torch.equal(sample_next(logits, greedy=True), logits.argmax(-1, keepdim=True))
    assert torch.equal(sample_next(logits, top_k=1, generator=torch.Generator().manual_seed(0)),
                       logits.argmax(-1, keepdim=True))


def test_seeded_sampling_is_reproducible(model):
    idx = torch.tensor([[1, 2, 3]])
    runs = [generate(model, idx, 15, top_p=0.9, generator=torch.Generator().manual_seed(7))
            for _ in range(2)]
    assert torch.equal(runs[0], runs[1])
    other = generate(model, idx, 15, top_p=0.9, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(runs[0], other)


@pytest.mark.parametrize("settings", [{"greedy": True}, {"top_k": 5, "temperature": 0.8}, {"top_p": 0.9}])
def test_cached_equals_uncached_while_it_fits(model, settings):
    idx = torch.tensor([[4, 8, 15], [16, 23, 42]])
    n = model.cfg.context_length - idx.shape[1] + 1  # the last step sees exactly the full window
    runs = [generate(model, idx, n, use_cache=c, generator=torch.Generator().manual_seed(3), **settings)
            for c in (True, False)]
    assert runs[0].shape == (2, 3 + n)
    assert torch.equal(runs[0], runs[1])


def test_cached_logits_equal_full_forward(model):
    x = torch.randint(50, (2, model.cfg.context_length), generator=torch.Generator().manual_seed(0))
    cache = KVCache()
    with torch.no_grad():
        full, _ = model(x)
        steps = [model(x[:, :5], cache=cache)[0]] + [model(x[:, t:t + 1], cache=cache)[0]
                                                     for t in range(5, x.shape[1])]
    assert cache.length == x.shape[1]
    torch.testing.assert_close(torch.cat(steps, 1), full, atol=1e-5, rtol=1e-5)


def test_generation_past_the_context(model):
    """Past the window, the uncached loop feeds the model the last context_length tokens;
    the cached loop agrees with it for as long as everything fits."""
    L = model.cfg.context_length
    idx = torch.tensor([[1, 2, 3]])
    uncached = generate(model, idx, 3 * L, greedy=True, use_cache=False)
    cached = generate(model, idx, 3 * L, greedy=True, use_cache=True)
    for out in (uncached, cached):
        assert out.shape == (1, 3 + 3 * L)
        assert torch.equal(out[:, :3], idx)
    with torch.no_grad():
        for t in (L - 1, L, L + 1, 2 * L, 3 + 3 * L - 1):  # positions inside and past the window
            logits, _ = model(uncached[:, :t][:, -L:])
            assert uncached[0, t] == logits[0, -1].argmax()
    fits = L + 1  # the prompt and the first L - 2 new tokens fill the window exactly
    assert torch.equal(cached[:, :fits], uncached[:, :fits])


def test_eval_mode_is_restored(model):
    model.train()
    generate(model, torch.tensor([[1]]), 2, greedy=True)
    assert model.training
    model.eval()


def test_long_prompt_is_cropped_with_a_warning(model):
    L = model.cfg.context_length
    long = torch.randint(50, (1, L + 10), generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning, match=f"only the last {L} tokens"):
        out = generate(model, long, 4, greedy=True)
    assert torch.equal(out[:, : L + 10], long)
    same = generate(model, long[:, -L:], 4, greedy=True)  # the model saw only the last L tokens
    assert torch.equal(out[:, -4:], same[:, -4:])


def test_max_new_tokens_zero(model):
    idx = torch.tensor([[1, 2]])
    assert torch.equal(generate(model, idx, 0), idx)


# --- bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("settings, message", [
    ({"temperature": 0}, "greedy=True"),
    ({"temperature": -1.0}, "positive"),
    ({"temperature": float("nan")}, "positive"),
    ({"top_k": 0}, "top_k"),
    ({"top_k": 2.5}, "top_k"),
    ({"top_p": 0.0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
    ({"top_p": -0.1}, "top_p"),
])
def test_bad_sampling_settings(model, logits, settings, message):
    with pytest.raises(ValueError, match=message):
        next_token_probs(logits, **settings)
    with pytest.raises(ValueError, match=message):
        generate(model, torch.tensor([[1]]), 2, **settings)
    with pytest.raises(ValueError, match=message):
        generate_text(model, "Hello", **settings)


def test_greedy_ignores_temperature(model):
    out = generate(model, torch.tensor([[1]]), 3, greedy=True, temperature=0, top_k=0)
    assert torch.equal(out, generate(model, torch.tensor([[1]]), 3, greedy=True))


def test_sampling_settings_are_checked_once_per_call(model, monkeypatch):
    """Validation happens at the entry point, not for every generated token."""
    from shared import generation

    calls = []
    real_check = generation.check_sampling_args
    monkeypatch.setattr(generation, "check_sampling_args", lambda *a, **k: calls.append(1) or real_check(*a, **k))
    counts = {}
    for n in (2, 20):
        calls.clear()
        generate(model, torch.tensor([[1]]), n, top_k=5, generator=torch.Generator().manual_seed(0))
        counts[n] = len(calls)
    assert counts == {2: 1, 20: 1}


def test_generate_text_passes_settings_through():
    """generate_text is generate plus the tokenizer: same settings, same tokens."""
    set_seed(0)
    model = GPT(GPTConfig(vocab_size=50257, context_length=8, d_model=16, n_heads=2, n_layers=1))
    settings = dict(temperature=0.7, top_k=8, top_p=0.9, use_cache=False)
    text = generate_text(model, "Hi", max_new_tokens=6, generator=torch.Generator().manual_seed(5), **settings)
    ids = generate(model, torch.tensor([encode("Hi")]), 6, generator=torch.Generator().manual_seed(5), **settings)
    assert text == decode(ids[0])
    with pytest.raises(TypeError, match="temprature"):
        generate_text(model, "Hi", temprature=0.5)


def test_bad_prompts(model):
    with pytest.raises(ValueError, match="empty"):
        generate_text(model, "")
    with pytest.raises(ValueError, match="empty"):
        generate(model, torch.zeros(1, 0, dtype=torch.long), 2)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        generate(model, torch.tensor([1, 2]), 2)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, torch.tensor([[1]]), -1)
    with pytest.raises(TypeError, match="string"):
        generate_text(model, 42)


def test_compact_vocab_round_trip_and_unknown_token():
    vocab = CompactVocab.from_tokens(encode("the cat sat on the mat. The dog"))
    set_seed(0)
    small = GPT(GPTConfig(vocab_size=len(vocab), context_length=8, d_model=16, n_heads=2, n_layers=1))
    assert encode_prompt("the cat", vocab).tolist() == [vocab.to_compact(encode("the cat")).tolist()]
    text = generate_text(small, "the cat", vocab=vocab, max_new_tokens=5,
                         generator=torch.Generator().manual_seed(0))
    compact = generate(small, encode_prompt("the cat", vocab), 5, generator=torch.Generator().manual_seed(0))
    assert text == decode(vocab.to_gpt2(compact[0]))  # compact ids mapped back to GPT-2 text
    assert text.startswith("the cat") and len(text) > len("the cat")
    with pytest.raises(ValueError, match="'zebra'|' zebra'|lacks"):
        generate_text(small, "the zebra", vocab=vocab)


def test_text_prompt_longer_than_context():
    set_seed(0)
    small = GPT(GPTConfig(vocab_size=50257, context_length=4, d_model=16, n_heads=2, n_layers=1))
    prompt = "one two three four five six"
    with pytest.warns(UserWarning, match="context_length is 4"):
        text = generate_text(small, prompt, max_new_tokens=2, greedy=True)
    assert text.startswith(prompt)


def test_suppress_never_generates_the_suppressed_ids():
    set_seed(0)
    model = GPT(GPTConfig(vocab_size=20, context_length=8, d_model=16, n_heads=2, n_layers=1)).eval()
    with torch.no_grad():
        model.ln_f.bias.fill_(1.0)  # every final vector gets +1 in each channel ...
        model.head.weight[7].fill_(5.0)  # ... so id 7 is by far the most likely
    idx = torch.zeros((4, 1), dtype=torch.long)
    assert (generate(model, idx, 10, greedy=True)[:, 1:] == 7).any()
    for settings in (dict(greedy=True), dict(temperature=2.0, generator=torch.Generator().manual_seed(0))):
        out = generate(model, idx, 30, suppress=(7,), **settings)[:, 1:]
        assert not (out == 7).any()
    with pytest.raises(ValueError, match="suppress holds ids outside"):
        generate(model, idx, 1, suppress=(20,))


def test_generate_text_never_writes_unk():
    vocab = CompactVocab.from_tokens(encode("the cat sat on the mat. the cat"), min_count=2, unk=True)
    set_seed(0)
    model = GPT(GPTConfig(vocab_size=len(vocab), context_length=8, d_model=16, n_heads=2, n_layers=1)).eval()
    with torch.no_grad():
        model.ln_f.bias.fill_(1.0)
        model.head.weight[vocab.unk_id].fill_(5.0)  # <unk> would win every time
    assert generate(model, encode_prompt(" the cat", vocab), 3, greedy=True)[0, -1] == vocab.unk_id
    text = generate_text(model, " the cat", vocab=vocab, max_new_tokens=6, greedy=True)
    assert text.startswith(" the cat") and len(vocab.to_compact(encode(text))) == 2 + 6
