"""shared.book: the shipped weights of the book model, and the chapters that use them."""

import json
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
import torch
from safetensors.torch import save_file

from shared import book
from shared.book import (
    BOOK_MODEL_FILE,
    BOOK_MODEL_SHA256,
    MAX_FILE_BYTES,
    book_model_config,
    book_model_info,
    load_book_data,
    load_book_model,
    save_book_model,
)
from shared.data import CompactVocab, sha256_of
from shared.model import GPT, GPTConfig
from shared.training import CheckpointError, History

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_file_is_small_and_has_the_recorded_sha256():
    assert BOOK_MODEL_FILE.is_file()
    assert BOOK_MODEL_FILE.stat().st_size <= MAX_FILE_BYTES
    assert sha256_of(BOOK_MODEL_FILE) == BOOK_MODEL_SHA256


def test_the_shipped_model_is_the_book_recipe_on_todays_vocabulary():
    model, vocab = load_book_model()
    corpus_vocab, _, _ = load_book_data()
    assert vocab == corpus_vocab
    assert model.cfg == book_model_config(len(vocab))
    assert not model.training
    assert model.head.weight is model.tok_emb.weight  # still tied after loading
    info = book_model_info()
    assert info["train_config"] == book.BOOK_TRAIN.to_dict()
    assert info["step"][-1] == book.BOOK_TRAIN.steps
    assert 3.5 < info["full_val_loss"][-1] < 4.7  # the recipe's result, as Chapter 7 reports it
    assert info["full_step"] == [250, 500, 750, 1000] and info["unk"] is True


def test_the_vocabulary_comes_from_the_training_split_alone():
    """No validation text decides which tokens get a row: every row's token occurs at least
    MIN_COUNT times in the training split, and every token that does has a row."""
    vocab, train_data, val_data = load_book_data()
    train_ids, val_ids = book.load_book_tokens()
    counts = torch.bincount(train_ids, minlength=50257)
    assert set(vocab.ids) == set((counts >= book.MIN_COUNT).nonzero().flatten().tolist())
    assert vocab.unk and len(vocab) == len(vocab.ids) + 1
    only_in_val = set(val_ids.tolist()) - set(train_ids.tolist())
    assert only_in_val and not only_in_val & set(vocab.ids)
    assert torch.equal(val_data == vocab.unk_id, ~torch.isin(val_ids, torch.tensor(vocab.ids)))


def test_loading_never_trains(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_book_model must never train")

    monkeypatch.setattr(book, "train", refuse)
    monkeypatch.setattr(book, "train_book_model", refuse)
    model, _ = load_book_model()
    assert isinstance(model, GPT)


def _tiny(vocab_size: int = 12) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=vocab_size, context_length=8, d_model=16, n_heads=2, n_layers=1,
                         pos_embedding="learned", tie_weights=True)).eval()


def test_save_and_load_round_trip(tmp_path):
    model, vocab = _tiny(), CompactVocab(tuple(range(100, 112)))
    path = save_book_model(tmp_path / "m.safetensors", model, vocab, History(step=[5], val_loss=[4.2]))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    loaded, loaded_vocab = load_book_model(path, sha256=None)
    x = torch.tensor([[0, 3, 11, 5]])
    assert loaded_vocab == vocab
    assert torch.equal(loaded(x)[0], model(x)[0])
    assert loaded.head.weight is loaded.tok_emb.weight
    assert book_model_info(path)["val_loss"] == [4.2]
    assert sha256_of(path) == sha256_of(save_book_model(tmp_path / "again.safetensors", model, vocab,
                                                        History(step=[5], val_loss=[4.2])))  # same bytes


def test_a_damaged_file_is_refused_with_what_to_do(tmp_path):
    damaged = tmp_path / "book_model.safetensors"
    data = bytearray(BOOK_MODEL_FILE.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in the last weight
    damaged.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256.*make book-model"):
        load_book_model(damaged)


def test_a_missing_file_says_how_to_get_it_back(tmp_path):
    with pytest.raises(FileNotFoundError, match="git checkout -- shared/weights"):
        load_book_model(tmp_path / "nothing.safetensors")


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "something else"})
    with pytest.raises(CheckpointError, match="not a book-model file"):
        load_book_model(path, sha256=None)


def test_a_file_with_missing_weights_is_refused(tmp_path):
    model, vocab = _tiny(), CompactVocab(tuple(range(12)))
    path = save_book_model(tmp_path / "m.safetensors", model, vocab, History())
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        tensors = {k: f.get_tensor(k) for k in f.keys() if k != "ln_f.weight"}
        meta = f.metadata()
    save_file(tensors, str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="ln_f.weight"):
        load_book_model(path, sha256=None)


@pytest.mark.parametrize("chapter", ["08_generation", "09_gpt2"])
def test_chapters_8_and_9_load_the_shipped_weights_and_never_train_the_book_model(chapter):
    nb = nbformat.read(ROOT / "chapters" / f"{chapter}.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "load_book_model()" in code
    for training_call in ("train_book_model", "load_or_train", "shared.book.main", "make book-model"):
        assert training_call not in code, f"{chapter} must not train the book model ({training_call})"


def test_chapter_8_shows_the_sha256_of_the_weights_it_loaded():
    nb = nbformat.read(ROOT / "chapters" / "08_generation.ipynb", as_version=4)
    shown = json.dumps([c.get("outputs", []) for c in nb.cells if c.cell_type == "code"])
    assert BOOK_MODEL_SHA256[:16] in shown



def test_the_recipe_runs_record_names_each_arithmetic_once():
    """Chapter 7 compares its run's file with the SHA-256 recorded for this machine's arithmetic."""
    runs = book.recipe_runs()
    keys = {"cpu", "machine", "torch", "kernels", "mkl_cbwr"}
    assert set(book.arithmetic()) == keys
    assert runs["runs"], "no run recorded: python -m shared.book --record"
    records = [run["arithmetic"] for run in runs["runs"]]
    assert all(set(r) == keys for r in records)
    assert len({json.dumps(r, sort_keys=True) for r in records}) == len(records)
    assert all(len(run["sha256"]) == 64 and 3 < run["val_loss"] < 6 for run in runs["runs"])
    assert runs["shipped"] is None or set(runs["shipped"]) == keys


def test_record_only_keeps_the_shipped_file(tmp_path, monkeypatch):
    """`python -m shared.book --record` writes its record, never the shipped weights."""
    monkeypatch.setattr(book, "RECIPE_RUNS_FILE", tmp_path / "runs.json")
    monkeypatch.setattr(book, "BOOK_MODEL_FILE", tmp_path / "book_model.safetensors")
    tiny = replace(book.BOOK_TRAIN, steps=2, eval_every=2, full_eval_every=2, warmup_steps=1)
    real_train = book.train_book_model
    monkeypatch.setattr(book, "train_book_model", lambda: real_train(progress=False, cfg=tiny))
    book.main(["--record"])
    runs = json.loads((tmp_path / "runs.json").read_text())
    assert not (tmp_path / "book_model.safetensors").exists() and runs["shipped"] is None
    assert [run["arithmetic"] for run in runs["runs"]] == [book.arithmetic()]
    book.main(["--record"])  # the same arithmetic again: replaced, not added
    assert len(json.loads((tmp_path / "runs.json").read_text())["runs"]) == 1


def test_the_arithmetic_record_follows_the_kernels_and_mkl_mode(monkeypatch):
    monkeypatch.setenv("MKL_CBWR", "COMPATIBLE")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "DEFAULT")
    record = book.arithmetic()
    assert record["mkl_cbwr"] == "COMPATIBLE" and record["kernels"] == "DEFAULT"
