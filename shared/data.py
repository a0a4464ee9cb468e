"""Data for the book: the corpus download, the GPT-2 tokenizer, the split and batches.

Everything a chapter needs to go from "a text file on the internet" to "a batch of
token ids ready for the model" lives here, in the order the reader meets it in
Chapter 1.

Downloads are careful because readers run them on flaky networks:

* the file goes to a temporary name in the cache folder and is renamed into place
  only once it is complete and its SHA-256 checks out (:func:`atomic_write`), so a
  half-written or corrupt file can never be picked up later;
* every request has a timeout; what a second try can fix (a lost connection, a
  server error, "too many requests") is retried a few times, nothing else;
* with no network and no cached copy, the error says where to put the file by hand.

The cache folder is ``data/`` at the root of the book, or the folder named by the
environment variable ``TFS_DATA_DIR``. Setting ``TFS_OFFLINE=1`` forbids all
downloads (the tests do this), so only cached, verified files are used.
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import BinaryIO

import torch

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

ROOT = Path(__file__).resolve().parent.parent


class DownloadError(RuntimeError):
    """A file could not be downloaded or verified. The message says what to do."""


def cache_dir() -> Path:
    """The folder where downloads are kept: ``$TFS_DATA_DIR`` or ``<book root>/data``."""
    folder = Path(os.environ.get("TFS_DATA_DIR", ROOT / "data")).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_offline() -> bool:
    """True when ``TFS_OFFLINE`` is set to 1/true/yes: no download is attempted."""
    return os.environ.get("TFS_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


def sha256_of(path: str | os.PathLike) -> str:
    """The hexadecimal SHA-256 digest of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Write a file all at once or not at all; return its path.

    ``write(f)`` receives a binary file open on a temporary file beside ``path``.
    Once it returns, the data are flushed to disk and the temporary file is renamed
    to ``path`` (``os.replace`` is atomic), so a reader never sees a half-written
    file. If ``write`` raises, the temporary file is removed, any previous file at
    ``path`` is left untouched, and the error propagates. The file is readable by
    everyone (mode 0o644), like a file written with ``open``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _manual_hint(url: str, dest: Path, sha256: str | None) -> str:
    check = f" Its SHA-256 must be {sha256}." if sha256 else ""
    return (
        f"Download {url} by hand (in a browser, or with curl -L -o) and save it as {dest}."
        f"{check} Or set TFS_DATA_DIR to a folder that already holds it."
    )


def _session(retries: int, backoff: float):
    """A ``requests.Session`` that retries only what a retry can fix.

    urllib3's ``Retry`` on an ``HTTPAdapter`` repeats a request after a failed
    connection, a timeout before the response, or a status of 429 (too many
    requests) or 5xx (a server's passing trouble), waiting ``backoff * 2**n``
    seconds (or what a ``Retry-After`` header asks). A 404 or any other 4xx is
    final at once: asking again gives the same answer.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util import Retry

    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        status_forcelist=(429, 500, 502, 503, 504), allowed_methods={"GET", "HEAD"},
        backoff_factor=backoff, raise_on_status=False,  # the last response is returned, then reported
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    *,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying its SHA-256 if given.

    The body is streamed through :func:`atomic_write`: only a complete file whose
    digest matches ``sha256`` is renamed to ``dest``; on any failure nothing is
    left behind and :class:`DownloadError` says what to do. ``timeout`` bounds the
    connection and each wait for data, in seconds. Up to ``retries`` further
    attempts are made after a connection error, a timeout before the response, or a
    429/5xx status (see :func:`_session`); a 404, a body cut short and a checksum
    mismatch are reported at once (run the download again for a body cut short).
    """
    import requests
    from tqdm.auto import tqdm

    dest = Path(dest)
    if is_offline():
        raise DownloadError(
            f"Not downloading {url}: TFS_OFFLINE is set and {dest} is not in the cache. "
            + _manual_hint(url, dest, sha256)
        )

    def stream_into(out: BinaryIO) -> None:
        digest = hashlib.sha256()
        # Content-Length counts the bytes on the wire, which are compressed when the
        # server uses Content-Encoding; requests yields them decompressed.
        encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
        total = None if encoded else int(response.headers.get("Content-Length", 0)) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
                  leave=False) as bar:
            for chunk in response.iter_content(chunk_size=1 << 16):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
        if sha256 is not None and digest.hexdigest() != sha256:
            raise DownloadError(f"checksum mismatch: expected sha256 {sha256}, got {digest.hexdigest()}")

    try:
        with (
            _session(retries, backoff) as session,
            session.get(url, stream=True, timeout=timeout) as response,
        ):
            response.raise_for_status()
            # urllib3 raises if the body ends before its Content-Length (a cut connection).
            return atomic_write(dest, stream_into)
    except (requests.RequestException, DownloadError, OSError) as err:
        raise DownloadError(f"Could not download {url} ({err}). " + _manual_hint(url, dest, sha256)) from err


def cached_download(url: str, filename: str, sha256: str | None = None, **kwargs) -> Path:
    """Return the verified cached copy of ``url``, downloading it first if needed.

    A cached file whose SHA-256 does not match (a partial copy, a corrupt file) is
    never used: it is deleted and downloaded again.
    """
    dest = cache_dir() / filename
    if dest.exists():
        if sha256 is None or sha256_of(dest) == sha256:
            return dest
        dest.unlink()  # corrupt or partial: never use it
    return download(url, dest, sha256, **kwargs)


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
