"""The book model: the recipe Chapter 7 trains, and the trained weights that ship with the book.

    vocab, train_data, val_data = load_book_data()      # the corpus as compact ids, split 90/10
    train_ids, val_ids = load_book_tokens()             # the same split as GPT-2 ids
    model, vocab, history = train_book_model()          # Chapter 7: about two minutes on a CPU
    model, vocab = load_book_model()                    # Chapters 8 and 9: the shipped weights

Training is a long chain of floating-point sums, and CPUs sum in different orders, so
two machines that run the same seeded recipe end with slightly different weights (the
validation loss agrees to about two decimals). So that every later chapter shows the
same outputs on every machine, the weights trained once by this recipe ship with the
book in ``shared/weights/book_model.safetensors``; :func:`load_book_model` checks the
file's SHA-256 and never trains. To make the file again (after changing the recipe)::

    python -m shared.book        # or: make book-model

which trains, writes the file atomically and prints the new SHA-256 to put in
:data:`BOOK_MODEL_SHA256`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import torch

from shared import SEED, set_seed
from shared.checkpoints import CheckpointError
from shared.data import CompactVocab, atomic_write, decode, encode, load_corpus, sha256_of, train_val_split
from shared.evaluation import bits_per_byte
from shared.model import GPT, GPTConfig
from shared.training import History, TrainConfig, train

__all__ = [
    "BOOK_TRAIN",
    "BOOK_MODEL_FILE",
    "BOOK_MODEL_SHA256",
    "book_model_config",
    "MIN_COUNT",
    "load_book_data",
    "load_book_tokens",
    "SCORED_TEXTS",
    "scored_text",
    "book_bits_per_byte",
    "train_book_model",
    "save_book_model",
    "load_book_model",
    "book_model_info",
    "arithmetic",
    "recipe_runs",
    "recorded_sha256",
]

#: The recipe of the model Chapter 7 trains and Chapters 8 and 9 use.
#: It evaluates cheaply (non-overlapping windows) every 25 steps for a smooth curve, and
#: by the full protocol (every window) every 250 steps.
BOOK_TRAIN = TrainConfig(steps=1000, batch_size=64, lr=3e-3, min_lr=3e-4, warmup_steps=100,
                         weight_decay=0.1, grad_clip=1.0, eval_every=25, eval_stride=16,
                         full_eval_every=250, seed=SEED)

#: A token needs this many occurrences in the training split to get its own row;
#: all others share the ``<unk>`` row.
MIN_COUNT = 2

#: The shipped weights, and the SHA-256 of that file (printed by ``python -m shared.book``).
BOOK_MODEL_FILE = Path(__file__).resolve().parent / "weights" / "book_model.safetensors"
#: Runs of the recipe, by the arithmetic that made them (:func:`arithmetic`): the SHA-256 of the file
#: each wrote, and the arithmetic of the run that made the shipped file (null: not recorded).
RECIPE_RUNS_FILE = BOOK_MODEL_FILE.parent / "recipe_runs.json"
BOOK_MODEL_SHA256 = "b7686594575bd0e9da6a50be39a7e94e58faaae6d9b7cc8fe20b6f4255756dc0"
MAX_FILE_BYTES = 2_000_000  # the book's size limit for a file of weights in git

_FORMAT = "tfs-book-model-1"
_META_KEY = "tfs"  # the one metadata entry: JSON of the configuration, recipe and losses
_VOCAB_KEY = "vocab.ids"  # the compact vocabulary, stored beside the weights


def book_model_config(vocab_size: int) -> GPTConfig:
    """The book model: the course's width (``d_model=64``, 4 heads, ``context_length=16``)
    with 2 blocks, learned positions, a compact vocabulary and tied weights (Chapter 7
    says why each)."""
    return GPTConfig(vocab_size=vocab_size, context_length=16, d_model=64, n_heads=4,
                     n_layers=2, dropout=0.1, pos_embedding="learned", tie_weights=True)


@lru_cache(maxsize=1)
def load_book_tokens() -> tuple[torch.Tensor, torch.Tensor]:
    """The corpus as GPT-2 ids, split 90/10: ``(train_ids, val_ids)``."""
    return train_val_split(encode(load_corpus()), 0.1)


@lru_cache(maxsize=1)
def load_book_data() -> tuple[CompactVocab, torch.Tensor, torch.Tensor]:
    """The corpus as compact ids: ``(vocab, train_data, val_data)``, split 90/10.

    The vocabulary is built from the *training* split alone: every token that occurs
    there at least :data:`MIN_COUNT` times gets its own id, and one shared ``<unk>`` id
    stands for all the others, in training and in validation. The validation text
    therefore cannot decide which rare tokens get an output row, and the validation
    loss is scored over all of GPT-2's ids (``evaluate(..., vocab=vocab)``).
    """
    train_ids, val_ids = load_book_tokens()
    vocab = CompactVocab.from_tokens(train_ids, min_count=MIN_COUNT, unk=True)
    return vocab, vocab.to_compact(train_ids), vocab.to_compact(val_ids)


#: The texts bits per byte is reported on (:func:`scored_text`): the whole validation
#: split, and its second half, which no setting of any recipe was chosen on.
SCORED_TEXTS = ("validation", "held-out")


def _scored_start(part: str) -> int:
    """Where a scored text starts, in GPT-2 tokens of the corpus."""
    if part not in SCORED_TEXTS:
        raise ValueError(f"part must be one of {SCORED_TEXTS}, got {part!r}")
    train_ids, val_ids = load_book_tokens()
    return len(train_ids) + (len(val_ids) // 2 if part == "held-out" else 0)


@lru_cache(maxsize=2)
def scored_text(part: str = "validation") -> tuple[str, str]:
    """``(before, text)``: a text bits per byte is reported on, and the corpus before it.

    ``"validation"`` is the validation split decoded (the last 10% of the corpus's GPT-2
    tokens); ``"held-out"`` is its second half. ``before + text`` is the whole corpus, so
    a model with another tokenizer can encode both and score ``text`` with its own context.
    """
    start = _scored_start(part)
    ids = torch.cat(load_book_tokens())
    before, text = decode(ids[:start]), decode(ids[start:])
    if before + text != load_corpus():  # a split inside a character would make the texts differ
        raise ValueError(f"the {part} text does not start on a character boundary")
    return before, text


def book_bits_per_byte(model: GPT, vocab: CompactVocab, part: str = "validation") -> float:
    """Bits per byte of a book-vocabulary model on :func:`scored_text` ``(part)``: every token
    once, each with up to ``context_length`` tokens of context, over all 50,257 GPT-2 ids."""
    start, T = _scored_start(part), model.cfg.context_length
    ids = vocab.to_compact(torch.cat(load_book_tokens())[start - T:])
    return bits_per_byte(model, ids, len(scored_text(part)[1].encode("utf-8")), T, first=T, vocab=vocab)


def train_book_model(
    callback: Callable[[History], bool | None] | None = None,
    progress: bool = True,
    cfg: TrainConfig = BOOK_TRAIN,
    clock: Callable[[], float] = time.perf_counter,
    **model_changes,
) -> tuple[GPT, CompactVocab, History]:
    """Train the book model from scratch, seeded with ``cfg.seed``; return it in eval mode
    on the CPU. ``model_changes`` replace fields of :func:`book_model_config` (a variant);
``clock`` measures ``History.train_seconds`` (``time.process_time`` for CPU time).

    It trains with one PyTorch thread: for matrices this small a second thread gains
    little on a quiet machine and loses a lot on a busy one, and one thread makes the
    result the same whatever the number of cores.
    """
    vocab, train_data, val_data = load_book_data()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        set_seed(cfg.seed)
        model = GPT(replace(book_model_config(len(vocab)), **model_changes))
        history = train(model, train_data, val_data, cfg, callback=callback, progress=progress, vocab=vocab,
                        clock=clock)
    finally:
        torch.set_num_threads(threads)
    return model.cpu().eval(), vocab, history


def save_book_model(path: str | os.PathLike, model: GPT, vocab: CompactVocab, history: History,
                    cfg: TrainConfig = BOOK_TRAIN) -> Path:
    """Write the model, its vocabulary and how it was trained as one safetensors file,
    atomically (a temporary file beside ``path``, then renamed); return the path."""
    from safetensors.torch import save

    tensors = {name: p.detach().cpu().contiguous() for name, p in model.named_parameters()}
    tensors[_VOCAB_KEY] = torch.tensor(vocab.ids, dtype=torch.int32)  # (<unk>, if any, is the next id)
    # One metadata key: safetensors writes several keys in a random order, and the book's
    # file must come out byte for byte the same from the same weights.
    metadata = {_META_KEY: json.dumps({
        "format": _FORMAT,
        "config": model.cfg.to_dict(),
        "train_config": cfg.to_dict(),
        "unk": vocab.unk,
        "val_loss": history.val_loss,
        "step": history.step,
        "full_val_loss": history.full_val_loss,
        "full_step": history.full_step,
    }, sort_keys=True)}
    path = Path(path)
    atomic_write(path, lambda f: f.write(save(tensors, metadata=metadata)))
    return path


def book_model_info(path: str | os.PathLike = BOOK_MODEL_FILE) -> dict:
    """The metadata stored with a book-model file: configuration, recipe, validation losses."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta, names = f.metadata() or {}, set(f.keys())
    except (SafetensorError, OSError) as err:
        raise CheckpointError(f"{path} is not a safetensors file ({err}): it is truncated, damaged or "
                              "another kind of file. The book model is a .safetensors file from save_book_model"
                              ) from None
    try:
        info = json.loads(meta[_META_KEY])
    except (KeyError, ValueError):
        info = {}
    if not isinstance(info, dict) or info.get("format") != _FORMAT:
        other = " (it holds GPT-2's tensors: load it with shared.pretrained.load_pretrained_gpt2)" if any(
            n.endswith("wte.weight") for n in names) else ""
        raise CheckpointError(f"{path} is a safetensors file but not a book-model file written by "
                              f"shared.book.save_book_model{other}")
    return info


def load_book_model(path: str | os.PathLike | None = None,
                    sha256: str | None = BOOK_MODEL_SHA256) -> tuple[GPT, CompactVocab]:
    """The trained book model and its vocabulary, in eval mode on the CPU. Never trains.

    With no ``path``, loads the weights that ship with the book and checks their SHA-256
    against :data:`BOOK_MODEL_SHA256` (pass ``sha256=None`` to skip the check for a file
    of your own). A missing, altered or foreign file raises an error that says what to do.
    """
    from safetensors import safe_open

    if not isinstance(path, (str, os.PathLike, type(None))) or not isinstance(sha256, (str, type(None))):
        raise TypeError(f"path must be a file name (or None) and sha256 a hex string (or None), got "
                        f"{type(path).__name__} and {type(sha256).__name__}")
    path = Path(path) if path is not None else BOOK_MODEL_FILE
    regenerate = "Restore it with `git checkout -- shared/weights`, or make it again with `make book-model`."
    if not path.is_file():
        raise FileNotFoundError(f"the book model's weights are missing: {path}. {regenerate}")
    info = book_model_info(path)  # first: a file of another kind is named as such, checksum or not
    if sha256 is not None and (found := sha256_of(path)) != sha256:
        raise CheckpointError(f"{path} has SHA-256 {found}, but the book expects {sha256}: the file "
                              f"is damaged or comes from another run. {regenerate}")
    try:
        cfg = GPTConfig(**info["config"])
        with safe_open(str(path), framework="pt") as f:
            tensors = {name: f.get_tensor(name) for name in f.keys()}
        vocab = CompactVocab(tuple(tensors.pop(_VOCAB_KEY).tolist()), unk=bool(info.get("unk", False)))
    except Exception as err:  # noqa: BLE001 - every way a damaged file can fail to make a model
        raise CheckpointError(f"{path} does not describe a book model ({type(err).__name__}: {err}). "
                              f"{regenerate}") from None
    if len(vocab) != cfg.vocab_size:
        raise CheckpointError(f"{path}: {len(vocab)} vocabulary ids for vocab_size={cfg.vocab_size}")
    model = GPT(cfg)
    stored, expected = set(tensors), {name for name, _ in model.named_parameters()}  # a tied matrix once
    if stored != expected:
        raise CheckpointError(f"{path} does not hold exactly the book model's weights: "
                              f"missing {sorted(expected - stored)}, unexpected {sorted(stored - expected)}")
    try:
        model.load_state_dict(tensors, strict=False, assign=True)  # strict=False: the tied head is stored once
    except RuntimeError as err:
        raise CheckpointError(f"{path} does not fit the book model: {err}") from err
    if cfg.tie_weights:
        model.head.weight = model.tok_emb.weight  # assign=True replaced the embedding's tensor: tie again
    return model.eval(), vocab


def arithmetic() -> dict:
    """What fixes the bits of a seeded one-thread training run on this machine: the processor,
    the PyTorch build and the kernels it picked (``ATEN_CPU_CAPABILITY``), and MKL's mode
    (``MKL_CBWR``). Two machines with the same record train the book model to the same bytes."""
    import platform

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():  # Linux: the processor's marketing name, as lscpu shows it
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    return {"cpu": cpu, "machine": platform.machine(), "torch": torch.__version__,
            "kernels": torch.backends.cpu.get_cpu_capability(), "mkl_cbwr": os.environ.get("MKL_CBWR", "")}


def recipe_runs() -> dict:
    """The record of :data:`RECIPE_RUNS_FILE`: ``{"shipped": arithmetic or None, "runs": [...]}``,
    each run ``{"arithmetic": ..., "sha256": ..., "val_loss": ...}``."""
    if not RECIPE_RUNS_FILE.is_file():
        return {"shipped": None, "runs": []}
    return json.loads(RECIPE_RUNS_FILE.read_text())


def recorded_sha256(record: dict) -> str | None:
    """The SHA-256 of the file the recipe wrote on the arithmetic ``record``, if a run is recorded."""
    return next((run["sha256"] for run in recipe_runs()["runs"] if run["arithmetic"] == record), None)


def main(argv: list[str] | None = None) -> None:
    """Train the book model by Chapter 7's recipe; write the shipped file (or, with ``--record``,
    only a scratch copy) and record the run's arithmetic and SHA-256 in :data:`RECIPE_RUNS_FILE`."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m shared.book", description=main.__doc__)
    parser.add_argument("--record", action="store_true",
                        help="keep the shipped file; only record what this machine's run writes")
    args = parser.parse_args(argv)
    model, vocab, history = train_book_model()
    target = Path(tempfile.mkdtemp()) / BOOK_MODEL_FILE.name if args.record else BOOK_MODEL_FILE
    path = save_book_model(target, model, vocab, history)
    size, digest = path.stat().st_size, sha256_of(path)
    print(f"wrote {path} ({size:,} bytes); validation loss {history.full_val_loss[-1]:.4f}")
    print(f"SHA-256: {digest}")
    if size > MAX_FILE_BYTES:
        raise SystemExit(f"the file is larger than {MAX_FILE_BYTES:,} bytes: make the model smaller")
    here, runs = arithmetic(), recipe_runs()
    runs["runs"] = [run for run in runs["runs"] if run["arithmetic"] != here]
    runs["runs"].append({"arithmetic": here, "sha256": digest, "val_loss": round(history.full_val_loss[-1], 6)})
    if not args.record:
        runs["shipped"] = here
    text = json.dumps(runs, indent=1, sort_keys=True) + "\n"
    atomic_write(RECIPE_RUNS_FILE, lambda f: f.write(text.encode()))
    print(f"recorded in {RECIPE_RUNS_FILE}")
    if not args.record and digest != BOOK_MODEL_SHA256:
        print("This differs from BOOK_MODEL_SHA256 in shared/book.py: update it (and re-run Chapters 8 and 9).")


if __name__ == "__main__":
    main()
