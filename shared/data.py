"""Data for the book: the corpus download, the GPT-2 tokenizer, the split and batches.

Everything a chapter needs to go from "a text file on the internet" to "a batch of
token ids ready for the model" lives here, in the order the reader meets it in
Chapter 1.

Downloads are careful because readers run them on flaky networks:

* the file goes to a temporary name in the cache folder and is renamed into place
  only once it is complete and its SHA-256 checks out, so a half-written or
  corrupt file can never be picked up later;
* every request has a timeout and is retried a few times;
* with no network and no cached copy, the error says where to put the file by hand.

The cache folder is ``data/`` at the root of the book, or the folder named by the
environment variable ``TFS_DATA_DIR``. Setting ``TFS_OFFLINE=1`` forbids all
downloads (the tests do this), so only cached, verified files are used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

__all__ = [
    "CORPUS_URL",
    "CORPUS_SHA256",
    "DownloadError",
    "cache_dir",
    "is_offline",
    "sha256_of",
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


def _manual_hint(url: str, dest: Path, sha256: str | None) -> str:
    check = f" Its SHA-256 must be {sha256}." if sha256 else ""
    return (
        f"Download {url} by hand (in a browser, or with curl -L -o) and save it as {dest}."
        f"{check} Or set TFS_DATA_DIR to a folder that already holds it."
    )


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

    The body is streamed into a temporary file beside ``dest``; only a complete file
    whose length matches ``Content-Length`` and whose digest matches ``sha256`` is
    renamed to ``dest``. On any failure the temporary file is removed and, after
    ``retries`` attempts, :class:`DownloadError` is raised with instructions.
    ``timeout`` bounds the connection and each wait for data, in seconds.
    """
    import requests
    from tqdm.auto import tqdm

    dest = Path(dest)
    if is_offline():
        raise DownloadError(
            f"Not downloading {url}: TFS_OFFLINE is set and {dest} is not in the cache. "
            + _manual_hint(url, dest, sha256)
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(1, retries + 1):
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, requests.get(url, stream=True, timeout=timeout) as r:
                r.raise_for_status()
                expected = int(r.headers.get("Content-Length", 0)) or None
                if r.headers.get("Content-Encoding", "identity").lower() not in ("", "identity"):
                    # Content-Length counts the compressed bytes on the wire, but requests
                    # yields them decompressed; urllib3 and the SHA-256 still catch truncation.
                    expected = None
                digest = hashlib.sha256()
                received = 0
                with tqdm(
                    total=expected, unit="B", unit_scale=True, desc=dest.name,
                    disable=not progress, leave=False,
                ) as bar:
                    for chunk in r.iter_content(chunk_size=1 << 16):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                if expected is not None and received != expected:
                    raise DownloadError(
                        f"truncated download: got {received:,} of {expected:,} bytes"
                    )
                if sha256 is not None and digest.hexdigest() != sha256:
                    raise DownloadError(
                        f"checksum mismatch: expected sha256 {sha256}, got {digest.hexdigest()}"
                    )
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # mkstemp creates files readable by their owner only
            os.replace(tmp, dest)
            return dest
        except (requests.RequestException, DownloadError, OSError) as err:
            last_error = err
            if attempt < retries:
                time.sleep(backoff * attempt)
        finally:
            tmp.unlink(missing_ok=True)
    raise DownloadError(
        f"Could not download {url} after {retries} attempts ({last_error}). "
        + _manual_hint(url, dest, sha256)
    ) from last_error


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


@lru_cache(maxsize=None)
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
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    data = torch.as_tensor(tokens, dtype=torch.long)
    n_train = int(len(data) * (1.0 - val_fraction))
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
    if len(data) <= context_length:
        raise ValueError(
            f"need more than context_length={context_length} tokens, got {len(data)}"
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
    lets the output layer score only tokens that can occur. Build it from the
    *whole* corpus so every validation target has an output row.
    """

    ids: tuple[int, ...]  # ids[compact] = GPT-2 id, sorted

    @classmethod
    def from_tokens(cls, tokens) -> "CompactVocab":
        ids = torch.as_tensor(tokens).unique(sorted=True).tolist()
        return cls(tuple(ids))

    def __len__(self) -> int:
        return len(self.ids)

    def _table(self) -> torch.Tensor:
        table = torch.full((max(self.ids) + 1,), -1, dtype=torch.long)
        table[torch.tensor(self.ids)] = torch.arange(len(self.ids))
        return table

    def to_compact(self, tokens) -> torch.Tensor:
        """GPT-2 ids -> compact ids. Raises ``KeyError`` for an id not in the vocabulary."""
        t = torch.as_tensor(tokens, dtype=torch.long)
        table = self._table()
        # (a negative id would silently index from the end of the table)
        if t.numel() and (t.min() < 0 or t.max() >= len(table)
                          or (table[t.clamp(max=len(table) - 1)] < 0).any()):
            raise KeyError("some token ids are not in this compact vocabulary")
        return table[t]

    def to_gpt2(self, compact) -> torch.Tensor:
        """Compact ids -> GPT-2 ids."""
        return torch.tensor(self.ids, dtype=torch.long)[torch.as_tensor(compact, dtype=torch.long)]
