"""Property-based tests (hypothesis): valid inputs keep the invariants, invalid ones are refused.

* Valid inputs, generated: shapes, probabilities that sum to 1 (over all 50,257 GPT-2 ids for
  a compact vocabulary), round trips (ids, text), the KV cache, top-k/top-p.
* Invalid inputs, generated: every public entry point of ``shared/`` raises TypeError,
  ValueError or IndexError (loaders: their own error class) whose message names the argument,
  raised by ``shared/`` itself (:func:`refused` checks the frame that raised it), never
  from deep inside PyTorch and never a silent result.

Profiles: ``ci`` (the default: derandomized, so every run tries the same examples, and sized
so that this file takes well under a minute) and ``deep`` (many more, random examples):
``HYPOTHESIS_PROFILE=deep python -m pytest tests/test_properties.py``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from shared.book import load_book_model, save_book_model
from shared.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from shared.checks import check_attention, check_cross_entropy, check_decode, check_embedding, check_merge_pair
from shared.data import CompactVocab, decode, encode, get_batch, train_val_split
from shared.evaluation import bits_per_byte, evaluate
from shared.explorer import NextTokenExplorer
from shared.generation import generate, generate_text, next_token_probs, sample_next
from shared.model import GPT, GPTConfig, KVCache
from shared.pretrained import GPT2WeightsError, gpt2_name_map, load_pretrained_gpt2
from shared.runs import History, TrainConfig
from shared.training import train
from shared.widgets import SliderFigure

settings.register_profile("ci", max_examples=25, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=500, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED = str(Path(__file__).resolve().parent.parent / "shared")
DOCUMENTED = (TypeError, ValueError, IndexError)
V, L = 40, 8  # the small model's vocabulary and window


@cache
def small_model() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=V, context_length=L, d_model=16, n_heads=2, n_layers=1, dropout=0.0)).eval()


def refused(call, name: str, errors: type | tuple[type, ...] = DOCUMENTED) -> BaseException:
    """``call()`` must raise one of ``errors``, from a line of ``shared/``, naming ``name``."""
    with pytest.raises(errors) as info:
        call()
    tb = info.value.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename
    assert where.startswith(SHARED), f"{info.type.__name__} raised in {where}, not by shared/: {info.value}"
    assert name in str(info.value), f"{name!r} not named in: {info.value}"
    return info.value


# --------------------------------------------------------------------------- strategies

not_an_int = st.one_of(st.floats(allow_nan=True), st.booleans(), st.text(max_size=3), st.none(),
                       st.just([1]))
not_a_bool = st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats())


def bad_int(minimum: int | None = None, maximum: int | None = None):
    """Not an integer, or one outside ``minimum..maximum``."""
    out = [not_an_int]
    if minimum is not None:
        out.append(st.integers(max_value=minimum - 1))
    if maximum is not None:
        out.append(st.integers(min_value=maximum + 1))
    return st.one_of(*out)


def bad_number(low=None, high=None, low_open=False, high_open=False):
    """Not a number, not finite, or outside the range."""
    out = [st.booleans(), st.text(max_size=3), st.just(float("nan")), st.just(float("inf")), st.just([0.5])]
    if low is not None:
        out.append(st.floats(max_value=low, exclude_max=not low_open, allow_nan=False))
    if high is not None:
        out.append(st.floats(min_value=high, exclude_min=not high_open, allow_nan=False))
    return st.one_of(*out)


KINDS = ("float", "bool", "rank", "empty", "long", "range", "list", "string")


@st.composite
def bad_ids(draw, vocab_size: int = V, max_length: int | None = L, dims: int = 2, kinds=KINDS):
    """Token ids a reader might pass by mistake: floats, bools, a wrong rank, an empty or
    too long row, ids outside the vocabulary, a list of floats, a string."""
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, max_length or 8))
    ok = torch.randint(vocab_size, (B, T) if dims == 2 else (T,))
    kind = draw(st.sampled_from(kinds))
    if kind == "float":
        return ok.float() + draw(st.sampled_from([0.0, 0.5]))
    if kind == "bool":
        return ok > 0
    if kind == "rank":
        return ok.flatten() if dims == 2 else ok[None]
    if kind == "empty":
        return ok[..., :0]
    if kind == "long":
        if max_length is None:
            return ok.float()
        return torch.randint(vocab_size, (B, max_length + draw(st.integers(1, 5))) if dims == 2 else (max_length + 1,))
    if kind == "range":
        bad = ok.clone()
        bad.view(-1)[draw(st.integers(0, bad.numel() - 1))] = draw(
            st.one_of(st.integers(max_value=-1, min_value=-10**9), st.integers(vocab_size, 10**9)))
        return bad
    if kind == "list":
        return (ok + 0.5).tolist()
    return "the cat"


# --------------------------------------------------------------------------- valid inputs keep the invariants


@given(B=st.integers(1, 3), T=st.integers(1, L), seed=st.integers(0, 2**16))
def test_forward_shapes_and_a_finite_loss(B, T, seed):
    g = torch.Generator().manual_seed(seed)
    idx, targets = torch.randint(V, (B, T), generator=g), torch.randint(V, (B, T), generator=g)
    logits, loss = small_model()(idx, targets)
    assert logits.shape == (B, T, V) and loss.shape == () and math.isfinite(loss.item())


logit_rows = st.integers(2, 30).flatmap(lambda n: st.lists(
    st.lists(st.floats(-20, 20, allow_nan=False), min_size=n, max_size=n), min_size=1, max_size=3))


@given(rows=logit_rows, temperature=st.floats(0.05, 5.0), top_k=st.one_of(st.none(), st.integers(1, 40)),
       top_p=st.one_of(st.none(), st.floats(0.01, 1.0)), seed=st.integers(0, 1000))
def test_probabilities_sum_to_one_and_sampling_stays_in_the_kept_set(rows, temperature, top_k, top_p, seed):
    logits = torch.tensor(rows)
    probs = next_token_probs(logits, temperature, top_k, top_p)
    assert probs.shape == logits.shape and (probs >= 0).all()
    torch.testing.assert_close(probs.sum(-1), torch.ones(len(rows)), atol=1e-5, rtol=0)
    kept = probs > 0
    if top_k is not None:
        assert (kept.sum(-1) <= top_k).all()
    if top_p is not None:  # the kept set is the most likely tokens, and holds at least top_p
        full = next_token_probs(logits, temperature, top_k)
        assert ((full * kept).sum(-1) >= top_p - 1e-5).all()
        assert (full.masked_fill(kept, -1).amax(-1) <= full.masked_fill(~kept, 2).amin(-1) + 1e-6).all()
    for _ in range(3):
        picked = sample_next(logits, temperature, top_k, top_p, torch.Generator().manual_seed(seed))
        assert picked.shape == (len(rows), 1) and kept.gather(-1, picked).all()
    assert torch.equal(sample_next(logits, greedy=True), logits.argmax(-1, keepdim=True))


@given(ids=st.sets(st.integers(0, CompactVocab.GPT2_VOCAB_SIZE - 1), min_size=1, max_size=50),
       seed=st.integers(0, 1000))
def test_full_vocab_probabilities_sum_to_one_over_every_gpt2_id(ids, seed):
    vocab = CompactVocab(tuple(sorted(ids)), unk=True)
    log_probs = torch.randn(len(vocab), generator=torch.Generator().manual_seed(seed)).log_softmax(-1)
    every_id = vocab.to_compact(torch.arange(CompactVocab.GPT2_VOCAB_SIZE))
    full = vocab.full_vocab_log_prob(log_probs.expand(len(every_id), -1), every_id)
    assert float(full.double().exp().sum()) == pytest.approx(1.0, abs=1e-4)


@given(data=st.data(), ids=st.sets(st.integers(0, CompactVocab.GPT2_VOCAB_SIZE - 1), min_size=1, max_size=50),
       unk=st.booleans())
def test_compact_ids_round_trip(data, ids, unk):
    vocab = CompactVocab(tuple(sorted(ids)), unk=unk)
    tokens = data.draw(st.lists(st.sampled_from(sorted(ids)), max_size=20))
    assert vocab.to_gpt2(vocab.to_compact(tokens)).tolist() == tokens


@given(text=st.text(max_size=60))
def test_decode_encode_round_trip(text):
    assert decode(encode(text)) == text


@given(prompt=st.integers(1, L - 1), seed=st.integers(0, 1000), batch=st.integers(1, 2), data=st.data())
def test_cached_generation_equals_uncached(prompt, seed, batch, data):
    new = data.draw(st.integers(0, L - prompt))  # the prompt and new tokens fit in the window
    idx = torch.randint(V, (batch, prompt), generator=torch.Generator().manual_seed(seed))
    cached = generate(small_model(), idx, new, greedy=True, use_cache=True)
    assert cached.shape == (batch, prompt + new)
    assert torch.equal(cached, generate(small_model(), idx, new, greedy=True, use_cache=False))


@given(n=st.integers(2, 200), B=st.integers(1, 8), data=st.data())
def test_batches_are_windows_and_their_shift(n, B, data):
    T = data.draw(st.integers(1, n - 1))
    x, y = get_batch(torch.arange(n), B, T, torch.Generator().manual_seed(n))  # token i is the number i
    assert x.shape == y.shape == (B, T) and torch.equal(y, x + 1)  # y is x shifted by one token
    assert torch.equal(x, x[:, :1] + torch.arange(T)) and int(y.max()) < n  # whole windows of the data


@given(tokens=st.lists(st.integers(0, 50_000), min_size=2, max_size=100), fraction=st.floats(0.01, 0.99))
def test_the_split_keeps_every_token_in_order(tokens, fraction):
    n_train = int(len(tokens) * (1.0 - fraction))
    assume(0 < n_train < len(tokens))
    train_part, val_part = train_val_split(tokens, fraction)
    assert torch.cat([train_part, val_part]).tolist() == tokens


# --------------------------------------------------------------------------- invalid inputs are refused


@given(idx=bad_ids())
def test_forward_refuses_bad_ids(idx):
    refused(lambda: small_model()(idx), "idx")


@given(targets=bad_ids())
def test_forward_refuses_bad_targets(targets):
    idx = torch.randint(V, (2, 3))
    refused(lambda: small_model()(idx, targets), "targets")


def test_forward_refuses_a_cache_of_another_model_or_batch():
    cache = KVCache()
    small_model()(torch.randint(V, (2, 3)), cache=cache)
    refused(lambda: small_model()(torch.randint(V, (1, 1)), cache=cache), "cache")
    refused(lambda: small_model()(torch.randint(V, (2, 1)), cache="cache"), "cache")
    other = KVCache(keys=[None] * 3, values=[None] * 3)
    refused(lambda: small_model()(torch.randint(V, (1, 1)), cache=other), "cache")


CONFIG_FIELDS = {
    "vocab_size": bad_int(1), "context_length": bad_int(1), "d_model": bad_int(1), "n_heads": bad_int(1),
    "n_layers": bad_int(1), "d_ff": st.one_of(st.integers(max_value=0), st.floats(), st.booleans()),
    "dropout": bad_number(0.0, 1.0, high_open=True), "ln_eps": bad_number(0.0, low_open=True),
    "pos_embedding": st.one_of(st.text(max_size=8).filter(lambda s: s not in ("sinusoidal", "learned")),
                               st.none(), st.integers()),
    "activation": st.one_of(st.text(max_size=6).filter(lambda s: s not in ("relu", "gelu")), st.none()),
    "bias": not_a_bool, "tie_weights": not_a_bool, "causal": not_a_bool,
}


@given(field=st.sampled_from(sorted(CONFIG_FIELDS)), data=st.data())
def test_config_refuses_every_bad_field(field, data):
    value = data.draw(CONFIG_FIELDS[field])
    refused(lambda: GPTConfig(**{field: value}), field)


@given(d_model=st.integers(1, 64), n_heads=st.integers(1, 64))
def test_config_refuses_heads_that_do_not_divide_the_width(d_model, n_heads):
    assume(d_model % n_heads)
    refused(lambda: GPTConfig(d_model=d_model, n_heads=n_heads, pos_embedding="learned"), "n_heads")


SAMPLING = {"temperature": bad_number(0.0, low_open=True), "top_k": bad_int(1),
            "top_p": bad_number(0.0, 1.0, low_open=True)}


@given(setting=st.sampled_from(sorted(SAMPLING)), data=st.data())
def test_sampling_settings_are_refused_everywhere(setting, data):
    value = data.draw(SAMPLING[setting])
    assume(not (setting in ("top_k", "top_p") and value is None))
    logits = torch.randn(2, V)
    refused(lambda: next_token_probs(logits, **{setting: value}), setting)
    refused(lambda: sample_next(logits, **{setting: value}), setting)
    refused(lambda: generate(small_model(), torch.tensor([[1]]), 2, **{setting: value}), setting)


bad_logits = st.sampled_from([
    torch.randint(5, (2, V)), torch.randn(V), torch.tensor([[0.0, float("nan")]]),
    torch.tensor([[float("-inf")] * 3]), torch.tensor([[1.0, float("inf")]]), [[0.1, 0.2]], torch.zeros(2, 0),
])


@given(logits=bad_logits, greedy=st.booleans())
def test_sample_next_refuses_bad_logits(logits, greedy):
    refused(lambda: sample_next(logits, greedy=greedy), "logits")


GENERATE_ARGS = {
    "idx": bad_ids(max_length=None), "max_new_tokens": bad_int(0), "use_cache": not_a_bool,
    "greedy": not_a_bool, "generator": st.one_of(st.integers(), st.text(max_size=2)),
    "suppress": st.one_of(st.integers(), st.just((V,)), st.just((-1,)), st.just(("a",)), st.just((1.5,))),
}


@given(arg=st.sampled_from(sorted(GENERATE_ARGS)), data=st.data())
def test_generate_refuses_every_bad_argument(arg, data):
    args = {"idx": torch.tensor([[1, 2]]), "max_new_tokens": 2}
    args[arg] = data.draw(GENERATE_ARGS[arg])
    refused(lambda: generate(small_model(), **args), "suppress" if arg == "suppress" else arg)


@given(prompt=st.one_of(st.integers(), st.none(), st.just(["Hi"]), st.just(b"Hi")))
def test_generate_text_refuses_what_is_not_a_prompt(prompt):
    refused(lambda: generate_text(small_model(), prompt), "prompt")


def test_generate_text_refuses_a_vocabulary_that_does_not_fit_the_model():
    refused(lambda: generate_text(small_model(), "Hi"), "vocab")  # GPT-2 ids for a model of 40 ids
    refused(lambda: generate_text(small_model(), "Hi", vocab=CompactVocab(tuple(range(100)))), "vocab")
    refused(lambda: generate_text(small_model(), "Hi", vocab=[1, 2]), "vocab")
    refused(lambda: generate("not a model", torch.tensor([[1]]), 2), "model")


BATCH_ARGS = {"data": bad_ids(max_length=None, dims=1, kinds=[k for k in KINDS if k != "range"]),
              "batch_size": bad_int(1), "context_length": bad_int(1, 99),
              "generator": st.one_of(st.integers(), st.text(max_size=2)),
              "device": st.one_of(st.sampled_from(["gpu", "cpu0", "", "cuda:x"]), st.integers(), st.none())}


@given(arg=st.sampled_from(sorted(BATCH_ARGS)), data=st.data())
def test_get_batch_refuses_every_bad_argument(arg, data):
    args = {"data": torch.arange(100), "batch_size": 4, "context_length": 8}
    args[arg] = data.draw(BATCH_ARGS[arg])  # (get_batch knows no vocabulary: any integer is an id to it)
    refused(lambda: get_batch(**args), arg)


@given(tokens=st.one_of(st.just([]), st.just([5]), st.just("text"), st.just([0.5, 1.5]), st.just([[1, 2], [3, 4]])),
       fraction=st.floats(0.05, 0.95))
def test_train_val_split_refuses_bad_tokens(tokens, fraction):
    refused(lambda: train_val_split(tokens, fraction), "tokens")


@given(fraction=bad_number(0.0, 1.0, low_open=True, high_open=True))
def test_train_val_split_refuses_bad_fractions(fraction):
    refused(lambda: train_val_split(list(range(100)), fraction), "val_fraction")


@given(ids=st.one_of(st.just((1, 1)), st.just((-1, 2)), st.just((50_257,)), st.just((1.0, 2.0)), st.just(("a",)),
                     st.just(torch.tensor([1, 2])), st.just(7), st.just((True,))))
def test_compact_vocab_refuses_bad_ids(ids):
    refused(lambda: CompactVocab(ids), "ids")


@given(tokens=st.sampled_from([[0.5], [-1, 3], [50_257], "the cat", [[1, 2]]]))
def test_compact_vocab_from_tokens_refuses_bad_tokens(tokens):
    refused(lambda: CompactVocab.from_tokens(tokens, unk=True), "tokens")


@given(min_count=bad_int(1), unk=not_a_bool)
def test_compact_vocab_refuses_bad_settings(min_count, unk):
    refused(lambda: CompactVocab.from_tokens([1, 2, 2], min_count=min_count, unk=True), "min_count")
    refused(lambda: CompactVocab.from_tokens([1, 2, 2], unk=unk), "unk")
    refused(lambda: CompactVocab((1, 2), unk=unk), "unk")


def test_compact_vocab_conversions_refuse_bad_ids():
    vocab = CompactVocab((5, 17, 300), unk=True)
    refused(lambda: vocab.to_compact([1.5]), "tokens")
    refused(lambda: vocab.to_gpt2([0.0]), "compact")
    refused(lambda: vocab.to_gpt2([7]), "compact")
    refused(lambda: vocab.full_vocab_log_prob(torch.zeros(2, 3), torch.tensor([0, 1])), "log_probs")
    refused(lambda: vocab.full_vocab_log_prob(torch.zeros(2, 4), torch.tensor([0, 4])), "targets")
    refused(lambda: vocab.full_vocab_log_prob(torch.zeros(2, 4), torch.tensor([[0, 1]])), "targets")


EVALUATE_ARGS = {"data": bad_ids(max_length=None, dims=1), "context_length": bad_int(1, L),
                 "batch_size": bad_int(1), "stride": bad_int(1), "device": st.sampled_from(["gpu", 3]),
                 "vocab": st.sampled_from([CompactVocab((1, 2)), [1, 2]]),
                 "count": st.sampled_from([torch.ones(5, dtype=torch.bool), torch.ones(50), [True] * 50])}


@given(arg=st.sampled_from(sorted(EVALUATE_ARGS)), data=st.data())
def test_evaluate_refuses_every_bad_argument(arg, data):
    args = {"data": torch.randint(V, (50,)), "context_length": 4}
    args[arg] = data.draw(EVALUATE_ARGS[arg])
    refused(lambda: evaluate(small_model(), **args), arg)


BPB_ARGS = {"ids": bad_ids(max_length=None, dims=1), "n_bytes": bad_int(1), "context_length": bad_int(1, L),
            "first": bad_int(1, 9), "vocab": st.sampled_from([CompactVocab((1, 2)), "vocab"])}


@given(arg=st.sampled_from(sorted(BPB_ARGS)), data=st.data())
def test_bits_per_byte_refuses_every_bad_argument(arg, data):
    args = {"ids": torch.randint(V, (10,)), "n_bytes": 30, "context_length": 4}
    args[arg] = data.draw(BPB_ARGS[arg])
    refused(lambda: bits_per_byte(small_model(), **args), arg)


TRAIN_FIELDS = {
    "steps": bad_int(1), "batch_size": bad_int(1), "warmup_steps": bad_int(0), "eval_every": bad_int(1),
    "eval_stride": bad_int(1), "eval_batch_size": bad_int(1), "lr": bad_number(0.0, low_open=True),
    "min_lr": bad_number(0.0), "weight_decay": bad_number(0.0), "decay_embeddings": not_a_bool,
    "betas": st.sampled_from([(0.9,), (0.9, 1.0), (-0.1, 0.9), 0.9, "ab", (0.9, "x")]),
    "grad_clip": bad_number(0.0, low_open=True).filter(lambda v: v is not None),
    "full_eval_every": bad_int(1).filter(lambda v: v is not None),
    "label_smoothing": bad_number(0.0, 1.0, high_open=True), "ema_decay": bad_number(0.0, 1.0).filter(
        lambda v: v is not None), "device": st.one_of(st.integers(), st.just(["cpu"])), "seed": not_an_int,
}


@given(field=st.sampled_from(sorted(TRAIN_FIELDS)), data=st.data())
def test_train_config_refuses_every_bad_field(field, data):
    value = data.draw(TRAIN_FIELDS[field])
    refused(lambda: TrainConfig(**{field: value}), field)


TRAIN_ARGS = {"train_data": bad_ids(max_length=None, dims=1), "val_data": st.just(torch.arange(5)),
              "cfg": st.just({"steps": 10}), "callback": st.just(3), "progress": st.just("no"),
              "vocab": st.just(CompactVocab((1, 2)))}


@given(arg=st.sampled_from(sorted(TRAIN_ARGS)), data=st.data())
def test_train_refuses_every_bad_argument_before_the_first_step(arg, data):
    args = {"train_data": torch.randint(V, (100,)), "val_data": torch.randint(V, (50,)),
            "cfg": TrainConfig(steps=1, eval_every=1, device="cpu"), "progress": False}
    args[arg] = data.draw(TRAIN_ARGS[arg])
    model = small_model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    refused(lambda: train(model, **args), arg)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # not one step taken
    model.eval()


# --------------------------------------------------------------------------- damaged and foreign files


@cache
def good_files() -> dict[str, bytes]:
    """The bytes of a checkpoint, a book-model file and a GPT-2 file, all tiny."""
    from safetensors.torch import save

    torch.manual_seed(0)
    gpt2 = GPT(GPTConfig.gpt2(vocab_size=V, context_length=L, d_model=16, n_heads=1, n_layers=1))
    state = gpt2.state_dict()
    gpt2_bytes = save({theirs: (state[ours].t() if transpose else state[ours]).contiguous()
                       for ours, (theirs, transpose) in gpt2_name_map(1).items()})
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = save_checkpoint(Path(tmp) / "c.pt", small_model(), step=3, vocab=CompactVocab(tuple(range(V))))
        book = save_book_model(Path(tmp) / "b.safetensors", small_model(), CompactVocab(tuple(range(V))), History())
        return {"checkpoint": ckpt.read_bytes(), "book": book.read_bytes(), "gpt2": gpt2_bytes}


def damage(data: bytes, how: str, where: float, bit: int) -> bytes:
    if how == "truncated":
        return data[:int(where * len(data))]
    flipped = bytearray(data)
    flipped[min(int(where * len(data)), len(data) - 1)] ^= 1 << bit
    return bytes(flipped)


def load_in_a_folder(data: bytes, name: str, load) -> None:
    """Write ``data`` to a fresh folder, call ``load(path)``; no other file may appear there."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            load(path)
        finally:
            assert [p.name for p in Path(tmp).iterdir()] == [name]


damages = dict(how=st.sampled_from(["truncated", "bit flip"]), where=st.floats(0.0, 0.999), bit=st.integers(0, 7))


@given(**damages)
def test_a_damaged_checkpoint_is_refused(how, where, bit):
    """A damaged checkpoint is refused, unless the change is in bytes the loader never reads
    (a zip file's local headers): then what loads is exactly what was saved."""
    bad = damage(good_files()["checkpoint"], how, where, bit)

    def load(path):
        try:
            model, info = load_checkpoint(path)
        except CheckpointError as err:
            assert "c.pt" in str(err)
            return
        assert how == "bit flip" and info["step"] == 3
        assert all(torch.equal(v, small_model().state_dict()[k]) for k, v in model.state_dict().items())

    load_in_a_folder(bad, "c.pt", load)


@given(**damages, checksum=st.booleans())
def test_a_damaged_book_model_is_refused(how, where, bit, checksum):
    from shared.data import sha256_of

    files = good_files()

    def load(path):
        with tempfile.TemporaryDirectory() as tmp:  # the digest of the undamaged file
            good = Path(tmp) / "b.safetensors"
            good.write_bytes(files["book"])
            sha = sha256_of(good)
        if checksum or how == "truncated":
            refused(lambda: load_book_model(path, sha256=sha if checksum else None), "b.safetensors", CheckpointError)
        else:  # no checksum: a flipped bit in a weight cannot be seen, anything else must be caught
            try:
                load_book_model(path, sha256=None)
            except CheckpointError as err:
                assert "b.safetensors" in str(err)

    load_in_a_folder(damage(files["book"], how, where, bit), "b.safetensors", load)


@given(**damages)
def test_a_damaged_gpt2_file_is_refused(how, where, bit):
    bad = damage(good_files()["gpt2"], how, where, bit)

    def load(path):
        if how == "truncated":
            refused(lambda: load_pretrained_gpt2(path), "model.safetensors", GPT2WeightsError)
        else:  # GPT-2 files carry no checksum: a flipped weight loads, anything else is caught
            try:
                load_pretrained_gpt2(path)
            except GPT2WeightsError as err:
                assert "model.safetensors" in str(err)

    load_in_a_folder(bad, "model.safetensors", load)


LOADERS = {"checkpoint": (lambda p: load_checkpoint(p), CheckpointError),
           "book": (lambda p: load_book_model(p, sha256=None), CheckpointError),
           "gpt2": (lambda p: load_pretrained_gpt2(p), GPT2WeightsError)}
FOREIGN = [(kind, loader) for kind in ("junk", *LOADERS) for loader in LOADERS if kind != loader]


@given(junk=st.binary(max_size=200), pair=st.sampled_from(FOREIGN))
def test_foreign_files_are_refused_and_named_for_what_they_are(junk, pair):
    kind, loader = pair
    load, error = LOADERS[loader]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.bin"
        path.write_bytes(junk if kind == "junk" else good_files()[kind])
        err = refused(lambda: load(path), "f.bin", error)
        assert [p.name for p in Path(tmp).iterdir()] == ["f.bin"]
    hint = {("book", "gpt2"): "load_book_model", ("gpt2", "book"): "load_pretrained_gpt2"}.get(pair)
    assert hint is None or hint in str(err)


def test_loaders_refuse_what_is_not_a_path():
    refused(lambda: load_checkpoint(3), "path")
    refused(lambda: load_checkpoint("missing.pt"), "missing.pt", FileNotFoundError)
    refused(lambda: load_book_model(3), "path")
    refused(lambda: load_pretrained_gpt2(3), "path")
    refused(lambda: load_checkpoint("missing.pt", model="GPT"), "model")


# --------------------------------------------------------------------------- figures and the reader's code


def _draw(**params):
    import matplotlib.pyplot as plt

    return plt.figure()


@given(sliders=st.one_of(
    st.just({}), st.just([1, 2]), st.dictionaries(st.sampled_from(["x", "not valid", "2x"]), st.one_of(
        st.just([]), st.just([1, 1]), st.just([2, 1]), st.just([1, "a"]), st.just([float("nan")]),
        st.just("abc"), st.just([True])), min_size=1, max_size=2)))
def test_slider_figures_refuse_bad_sliders(sliders):
    refused(lambda: SliderFigure(_draw, sliders, alt="x"), "slider")


@given(arg=st.sampled_from(["alt", "caption", "draw"]), value=st.one_of(st.integers(), st.just(""), st.none()))
def test_slider_figures_refuse_bad_arguments(arg, value):
    assume(not (arg == "caption" and (value is None or value == "")))  # those are captions
    args = {"draw": _draw, "sliders": {"x": [1, 2]}, "alt": "a figure", arg: value}
    refused(lambda: SliderFigure(**args), arg)


@given(arg=st.sampled_from(["tokens", "logits", "max_bars", "caption", "alt"]),
       value=st.sampled_from([3, "abc", None, [[1.0]], 0, ["a", "b", "c", "d"]]))
def test_the_explorer_refuses_bad_arguments(arg, value):
    assume((arg, value) not in (("max_bars", 3), ("caption", "abc"), ("caption", None), ("alt", "abc")))
    args = {"tokens": ["a", "b"], "logits": torch.tensor([1.0, 2.0]), "alt": "bars", "max_bars": 12, arg: value}
    refused(lambda: NextTokenExplorer(**args), arg)


BROKEN = [
    lambda *a: None, lambda *a: [], lambda *a: (), lambda *a: "text", lambda *a: 42, lambda *a: float("nan"),
    lambda *a: torch.zeros(3), lambda *a: torch.full((1,), float("nan")), lambda *a: 1 / 0,
    lambda *a: a[0][None], lambda *a: a[0].float() * float("inf"), lambda *a: (a[0],), lambda *a: {"x": 1},
]


@given(broken=st.sampled_from(BROKEN),
       check=st.sampled_from([check_merge_pair, check_decode, check_embedding, check_attention, check_cross_entropy]))
def test_checks_report_broken_functions_never_crash(broken, check):
    name = check.__name__
    with pytest.raises(AssertionError, match=f"^{name}: on "):
        check(broken)


@given(thing=st.sampled_from([None, 3, "attention", [1]]))
def test_checks_refuse_what_is_not_a_function(thing):
    refused(lambda: check_attention(thing), "check_attention", TypeError)


def test_the_forward_pass_is_unchanged_for_valid_input():
    """Validation only looks: the same ids give the same logits as the layers computed by hand."""
    model = small_model()
    idx = torch.randint(V, (2, 5), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = model.tok_emb(idx) + model.positions(0, 5, idx.device)
        for block in model.blocks:
            x = block(x)
        torch.testing.assert_close(model(idx)[0], model.head(model.ln_f(x)))
    assert replace(model.cfg, dropout=0.5).dropout == 0.5
