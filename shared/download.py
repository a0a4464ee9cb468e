"""Downloads the book can trust: atomic, verified, cached, and refused when offline.

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
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["DownloadError", "cache_dir", "is_offline", "sha256_of", "atomic_write", "download", "cached_download"]

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
