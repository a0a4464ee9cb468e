"""Data for the book: the corpus download, the GPT-2 tokenizer, the split and batches.

Everything a chapter needs to go from "a text file on the internet" to "a batch of
token ids ready for the model" lives here, in the order the reader meets it in
Chapter 1.

Downloads go through :mod:`shared.download` (atomic, verified, cached; refused with
``TFS_OFFLINE=1``). Its names are imported here too, so ``shared.data.cache_dir`` and
the rest work where the chapters meet them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import torch

from .download import (  # noqa: F401 - also part of this module's interface
    DownloadError,
    atomic_write,
    cache_dir,
    cached_download,
    download,
    is_offline,
    sha256_of,
)
from .validate import as_token_ids, check_bool, check_device, check_generator, check_int, check_number

__all__ = [
    "CORPUS_URL",
    "CORPUS_SHA256",
    "DownloadError",
    "cache_dir",
    "is_offline",
    "sha256_of",
    "atomic_write",
    "download",
    "cached_download",
    "load_corpus",
    "get_tokenizer",
    "encode",
    "decode",
    "train_val_split",
    "get_batch",
    "CompactVocab",
]

CORPUS_URL = (
    "https://huggingface.co/datasets/goendalf666/sales-textbook_for_convincing_and_selling"
    "/raw/main/sales_textbook.txt"
)
CORPUS_SHA256 = "69ea88d5530b72e650e64d51fea1fe0c23799b3a8e66b1ca9f4148e5f621b24d"
CORPUS_FILENAME = "sales_textbook.txt"

def load_corpus() -> str:
    """The sales textbook as one string (downloaded and verified on first use)."""
    path = cached_download(CORPUS_URL, CORPUS_FILENAME, CORPUS_SHA256)
    return path.read_text(encoding="utf-8")


@cache
def get_tokenizer():
    """tiktoken's ``gpt2`` byte-pair encoding (50,257 tokens), the one GPT-2 uses.

    tiktoken downloads its two files on first use and caches them in
    ``$TIKTOKEN_CACHE_DIR`` (the tests point this at an offline copy).
    """
    import tiktoken

    try:
        return tiktoken.get_encoding("gpt2")
    except Exception as err:  # network errors surface as many different types
        raise DownloadError(
            "tiktoken could not load the 'gpt2' encoding, usually because it could not "
            "download its files (vocab.bpe and encoder.json). Connect to the internet once, "
            "or set TIKTOKEN_CACHE_DIR to a folder holding tiktoken's cached copies. "
            f"Original error: {err!r}"
        ) from err


def encode(text: str) -> list[int]:
    """Token ids of ``text`` under the GPT-2 encoding."""
    return get_tokenizer().encode_ordinary(text)


def decode(ids) -> str:
    """Text of a sequence of GPT-2 token ids (a list or a 1-D tensor)."""
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    return get_tokenizer().decode(list(ids))


def train_val_split(tokens, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a token sequence in two: the first ``1 - val_fraction`` for training,
    the rest for validation. No shuffling: the validation text is text the model
    has never seen, not scattered sentences from the middle of the training text."""
    check_number(val_fraction, "val_fraction", 0.0, 1.0, low_open=True, high_open=True,
                 fix="the share of the tokens kept for validation, such as 0.1")
    data = as_token_ids(tokens, "tokens")
    n_train = int(len(data) * (1.0 - val_fraction))
    if n_train == 0 or n_train == len(data):
        raise ValueError(f"splitting {len(data)} tokens with val_fraction={val_fraction} leaves "
                         f"{'no training' if n_train == 0 else 'no validation'} tokens: give more text")
    return data[:n_train], data[n_train:]


def get_batch(
    data: torch.Tensor,
    batch_size: int,
    context_length: int,
    generator: torch.Generator | None = None,
    device: str | torch.device = "cpu",
) -> tuple[torch.Tensor, torch.Tensor]:
    """A random batch of ``batch_size`` windows of ``context_length`` tokens.

    Returns ``(x, y)``, both of shape ``(B, T)`` with ``B = batch_size`` and
    ``T = context_length``; ``y`` is ``x`` shifted one token to the left, so
    ``y[b, t]`` is the token that follows ``x[b, :t + 1]``. Pass a seeded
    ``torch.Generator`` for batches that are the same on every run.
    """
    data = as_token_ids(data, "data")
    check_int(batch_size, "batch_size", minimum=1)
    check_int(context_length, "context_length", minimum=1)
    check_generator(generator)
    device = check_device(device)
    if len(data) <= context_length:
        raise ValueError(
            f"data must hold more than context_length={context_length} tokens, got {len(data)}"
        )
    starts = torch.randint(len(data) - context_length, (batch_size,), generator=generator)
    offsets = torch.arange(context_length)
    x = data[starts[:, None] + offsets]
    y = data[starts[:, None] + offsets + 1]
    return x.to(device), y.to(device)


@dataclass(frozen=True)
class CompactVocab:
    """A mapping between GPT-2 token ids and a small, dense range ``0..len-1``.

    The corpus uses only a few thousand of GPT-2's 50,257 tokens. Renumbering them
    lets the output layer score only tokens that can occur.

    With ``unk=True`` there is one more compact id, :attr:`unk_id` (the last), which
    stands for *every other* GPT-2 id. A model over such a vocabulary is still a model
    over all 50,257 tokens: the probability of its ``<unk>`` output is split evenly over
    the :attr:`n_unk_ids` ids it stands for (:meth:`full_vocab_log_prob`). Chapter 7
    builds the book's vocabulary this way from the training split alone, so the
    validation text cannot choose which rare tokens get an output row.
    """

    ids: tuple[int, ...]  # ids[compact] = GPT-2 id, sorted
    unk: bool = False  # one more compact id, len(ids), shared by every GPT-2 id not in ids

    GPT2_VOCAB_SIZE = 50_257

    def __post_init__(self) -> None:
        if isinstance(self.ids, torch.Tensor) or not isinstance(self.ids, (tuple, list, range)):
            raise TypeError(f"ids must be a tuple of GPT-2 token ids, got {type(self.ids).__name__}; "
                            "for a tensor t pass tuple(t.tolist()), or build one with CompactVocab.from_tokens")
        ids = tuple(self.ids)
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise TypeError("ids must hold integer GPT-2 token ids, got "
                            + ", ".join(sorted({type(i).__name__ for i in ids})))
        if ids and (min(ids) < 0 or max(ids) >= self.GPT2_VOCAB_SIZE):
            raise ValueError(f"ids must be GPT-2 ids in 0..{self.GPT2_VOCAB_SIZE - 1}, got {min(ids)}..{max(ids)}")
        if len(set(ids)) != len(ids):
            raise ValueError("ids holds the same GPT-2 id twice: each id gets one compact id")
        check_bool(self.unk, "unk")
        object.__setattr__(self, "ids", ids)  # a list becomes a tuple: the vocabulary is frozen

    @classmethod
    def from_tokens(cls, tokens, min_count: int = 1, unk: bool = False) -> CompactVocab:
        """The ids that occur at least ``min_count`` times in ``tokens`` (GPT-2 ids),
        plus the shared ``<unk>`` id if ``unk``."""
        t = as_token_ids(tokens, "tokens", cls.GPT2_VOCAB_SIZE)
        check_int(min_count, "min_count", minimum=1)
        check_bool(unk, "unk")
        if min_count > 1 and not unk:
            raise ValueError("min_count > 1 leaves some tokens of the text without an id: pass unk=True")
        counts = torch.bincount(t, minlength=1) if t.numel() else torch.zeros(1, dtype=torch.long)
        ids = (counts >= min_count).nonzero().flatten().tolist()
        return cls(tuple(ids), unk)

    def __len__(self) -> int:
        return len(self.ids) + self.unk

    @property
    def unk_id(self) -> int | None:
        """The compact id of ``<unk>``, or None for a vocabulary without it."""
        return len(self.ids) if self.unk else None

    @property
    def n_unk_ids(self) -> int:
        """How many GPT-2 ids share the ``<unk>`` output."""
        return self.GPT2_VOCAB_SIZE - len(self.ids) if self.unk else 0

    def _table(self) -> torch.Tensor:
        table = torch.full((max(self.ids, default=0) + 1,), -1, dtype=torch.long)
        table[torch.tensor(self.ids, dtype=torch.long)] = torch.arange(len(self.ids))
        return table

    def to_compact(self, tokens) -> torch.Tensor:
        """GPT-2 ids -> compact ids. An id not in the vocabulary becomes :attr:`unk_id`,
        or raises ``KeyError`` for a vocabulary without ``<unk>``."""
        t = as_token_ids(tokens, "tokens", flat=False)
        if t.numel() and (t.min() < 0 or t.max() >= self.GPT2_VOCAB_SIZE):
            # (a negative id would silently index from the end of the table)
            raise KeyError(f"GPT-2 ids are in 0..{self.GPT2_VOCAB_SIZE - 1}, got {int(t.min())}..{int(t.max())}")
        table = self._table()
        found = table[t.clamp(max=len(table) - 1)]
        found[t >= len(table)] = -1
        if (found < 0).any():
            if not self.unk:
                raise KeyError("some token ids are not in this compact vocabulary")
            found[found < 0] = self.unk_id
        return found

    def to_gpt2(self, compact) -> torch.Tensor:
        """Compact ids -> GPT-2 ids. Raises ``IndexError`` for an id outside the ids'
        range, and ``ValueError`` for :attr:`unk_id` (it stands for many GPT-2 ids)."""
        t = as_token_ids(compact, "compact", flat=False)
        if self.unk and t.numel() and (t == self.unk_id).any():
            raise ValueError(f"compact id {self.unk_id} is <unk>, which stands for {self.n_unk_ids:,} GPT-2 ids, "
                             "not one: generate with suppress=(vocab.unk_id,), or show it with token_strings()")
        # (a negative id would silently index from the end of the table)
        if t.numel() and (t.min() < 0 or t.max() >= len(self.ids)):
            raise IndexError(
                f"compact ids must be in 0..{len(self.ids) - 1}, got ids from {int(t.min())} to {int(t.max())}"
            )
        return torch.tensor(self.ids, dtype=torch.long)[t]

    def token_strings(self) -> list[str]:
        """The text of every compact id, ``"<unk>"`` for :attr:`unk_id`."""
        return [decode([i]) for i in self.ids] + (["<unk>"] if self.unk else [])

    def full_vocab_log_prob(self, log_probs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over all of GPT-2's ids of the compact ``targets``.

        ``log_probs`` (..., len(self)) is a model's log-softmax over compact ids. A target
        with its own row gets that row's log-probability; a target that is ``<unk>`` gets
        ``log p(<unk>) - log(n_unk_ids)``: the ``<unk>`` probability split evenly over the
        GPT-2 ids it stands for. These probabilities sum to 1 over all 50,257 ids.
        """
        shape = tuple(getattr(log_probs, "shape", ()))
        if not isinstance(log_probs, torch.Tensor) or not log_probs.is_floating_point() or shape[-1:] != (len(self),):
            raise ValueError(f"log_probs must be a float tensor of shape (..., {len(self)}), one log-probability "
                             f"per compact id, got {type(log_probs).__name__} of shape {shape}")
        targets = as_token_ids(targets, "targets", len(self), flat=False)
        if targets.shape != shape[:-1]:
            raise ValueError(f"targets must have shape {shape[:-1]}, got {tuple(targets.shape)}")
        picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        if self.unk:
            picked = picked - (targets == self.unk_id).to(picked.dtype) * math.log(self.n_unk_ids)
        return picked
