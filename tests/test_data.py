"""Unit tests for shared/data.py: downloads and their failure modes, the split, batches,
the compact vocabulary and the tokenizer round trip.

Downloads are served by a small threaded HTTP server on 127.0.0.1 (a random free port),
so these tests need no internet. Every failure must end in ``DownloadError`` with a
message that says what to do, and must leave nothing behind in the cache folder.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import math
import time

import pytest
import torch

from shared import data
from tests.loopback import no_proxy, serving

BODY = b"The customer is always listening.\n" * 200
BODY_SHA = hashlib.sha256(BODY).hexdigest()
GZIPPED = gzip.compress(BODY, mtime=0)
STALL_S = 3.0  # the stalling handler gives up after this long, so the server always stops
FAST = dict(timeout=0.5, retries=2, backoff=0.0, progress=False)
ATTEMPTS = 1 + FAST["retries"]  # the first request and its retries


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test output quiet
        pass

    def do_GET(self):
        server = self.server
        server.hits.append(self.path)
        if self.path.startswith("/busy-"):  # /busy-503-2: answers 503 twice, then the body
            _, status, failures = self.path.split("-")
            if server.hits.count(self.path) <= int(failures):
                self._send(int(status), b"try again later")
            else:
                self._send(200, BODY)
        elif self.path == "/ok":
            self._send(200, BODY)
        elif self.path == "/gzip":  # compressed on the wire, Content-Length of the compressed bytes
            self._send(200, GZIPPED, {"Content-Encoding": "gzip"})
        elif self.path == "/truncated":  # promises more bytes than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:100])
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/stall-headers":  # accepts the connection, never answers in time
            server.release.wait(STALL_S)
            self.close_connection = True
        elif self.path == "/stall-body":  # sends headers and part of the body, then stalls
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY[:100])
            self.wfile.flush()
            server.release.wait(STALL_S)
            self.close_connection = True
        else:
            self._send(404, b"not found")

    def _send(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    """A threaded HTTP server on 127.0.0.1; yields its base URL. Records each request path."""
    with serving(_Handler) as (httpd, url):
        yield httpd, url


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, downloads allowed, no proxy in the way of 127.0.0.1."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TFS_DATA_DIR", str(folder))
    monkeypatch.delenv("TFS_OFFLINE", raising=False)
    no_proxy(monkeypatch)
    assert data.cache_dir() == folder
    return folder


def _files(folder):
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def _assert_helpful(err: pytest.ExceptionInfo, dest) -> None:
    message = str(err.value)
    assert "by hand" in message and str(dest) in message and "TFS_DATA_DIR" in message


# --- downloads ---------------------------------------------------------------------------


def test_download_success_is_verified_and_leaves_no_temporary_file(server, cache):
    httpd, url = server
    path = data.cached_download(f"{url}/ok", "book.txt", BODY_SHA, **FAST)
    assert path == cache / "book.txt"
    assert path.read_bytes() == BODY and data.sha256_of(path) == BODY_SHA
    assert _files(cache) == ["book.txt"]
    assert httpd.hits == ["/ok"]


def test_download_without_checksum(server, cache):
    _, url = server
    path = data.download(f"{url}/ok", cache / "plain.txt", **FAST)
    assert path.read_bytes() == BODY and _files(cache) == ["plain.txt"]


def test_valid_cached_file_is_used_without_a_request(server, cache):
    httpd, url = server
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "book.txt").write_bytes(BODY)
    assert data.cached_download(f"{url}/ok", "book.txt", BODY_SHA, **FAST).read_bytes() == BODY
    assert httpd.hits == []


def test_gzip_encoded_response_is_not_mistaken_for_truncation(server, cache):
    # requests decompresses the body, so the bytes received differ from Content-Length.
    _, url = server
    path = data.cached_download(f"{url}/gzip", "book.txt", BODY_SHA, **FAST)
    assert path.read_bytes() == BODY and _files(cache) == ["book.txt"]


def test_wrong_checksum_is_not_retried(server, cache):
    """The same bytes would come again: a checksum mismatch is reported at once, and no file is left."""
    httpd, url = server
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}/ok", "book.txt", "0" * 64, **FAST)
    assert f"checksum mismatch: expected sha256 {'0' * 64}, got {BODY_SHA}" in str(err.value)
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == []
    assert httpd.hits == ["/ok"]


def test_http_404_is_not_retried(server, cache):
    httpd, url = server
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}/missing", "book.txt", BODY_SHA, **FAST)
    assert "404" in str(err.value)
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == []
    assert httpd.hits == ["/missing"]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_passing_server_trouble_is_retried(server, cache, status):
    httpd, url = server
    path = f"/busy-{status}-{FAST['retries']}"  # fails on every try but the last one allowed
    assert data.cached_download(f"{url}{path}", "book.txt", BODY_SHA, **FAST).read_bytes() == BODY
    assert httpd.hits == [path] * ATTEMPTS
    assert _files(cache) == ["book.txt"]


def test_server_trouble_that_lasts_gives_up(server, cache):
    httpd, url = server
    path = "/busy-503-99"
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}{path}", "book.txt", BODY_SHA, **FAST)
    assert "503" in str(err.value)
    _assert_helpful(err, cache / "book.txt")
    assert httpd.hits == [path] * ATTEMPTS
    assert _files(cache) == []


def test_truncated_body(server, cache):
    httpd, url = server
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}/truncated", "book.txt", BODY_SHA, **FAST)
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == []
    assert httpd.hits == ["/truncated"]  # cut mid-body: reported, not retried automatically


def test_truncated_body_is_caught_without_a_checksum(server, cache):
    """Without a SHA-256 to compare, the Content-Length still exposes a body cut short."""
    _, url = server
    with pytest.raises(data.DownloadError, match="by hand"):
        data.download(f"{url}/truncated", cache / "plain.txt", **FAST)
    assert _files(cache) == []


@pytest.mark.parametrize("path, attempts", [("/stall-headers", ATTEMPTS), ("/stall-body", 1)])
def test_stalled_server_times_out(server, cache, path, attempts):
    """A server that never answers is asked again; one that stalls mid-body is reported at once."""
    httpd, url = server
    start = time.perf_counter()
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}{path}", "book.txt", BODY_SHA, **FAST)
    elapsed = time.perf_counter() - start
    assert elapsed < STALL_S, f"the timeout did not fire ({elapsed:.1f} s)"
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == []
    assert httpd.hits == [path] * attempts


def test_unreachable_server(cache):
    # Nothing listens on port 9 of 127.0.0.1 ("discard"): the connection is refused.
    with pytest.raises(data.DownloadError) as err:
        data.cached_download("http://127.0.0.1:9/book.txt", "book.txt", BODY_SHA, **FAST)
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == []


def test_atomic_write_all_or_nothing(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    assert data.atomic_write(path, lambda f: f.write(b"first")) == path
    assert path.read_bytes() == b"first" and path.stat().st_mode & 0o777 == 0o644

    def fails_half_way(f):
        f.write(b"half of the second")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        data.atomic_write(path, fails_half_way)
    assert path.read_bytes() == b"first"  # the previous file is untouched
    assert _files(tmp_path) == ["file.bin", "sub"]  # and no temporary file is left


def test_offline_without_cache(server, cache, monkeypatch):
    httpd, url = server
    monkeypatch.setenv("TFS_OFFLINE", "1")
    assert data.is_offline()
    with pytest.raises(data.DownloadError) as err:
        data.cached_download(f"{url}/ok", "book.txt", BODY_SHA, **FAST)
    assert "TFS_OFFLINE" in str(err.value)
    _assert_helpful(err, cache / "book.txt")
    assert _files(cache) == [] and httpd.hits == []


def test_corrupt_cached_file_is_downloaded_again(server, cache):
    httpd, url = server
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "book.txt").write_bytes(BODY[:-10])  # a partial copy
    path = data.cached_download(f"{url}/ok", "book.txt", BODY_SHA, **FAST)
    assert path.read_bytes() == BODY and httpd.hits == ["/ok"]
    assert _files(cache) == ["book.txt"]


def test_corrupt_cached_file_is_never_used_offline(cache, monkeypatch):
    monkeypatch.setenv("TFS_OFFLINE", "1")
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "book.txt").write_bytes(b"garbage")
    with pytest.raises(data.DownloadError):
        data.cached_download("http://127.0.0.1:9/book.txt", "book.txt", BODY_SHA, **FAST)
    assert _files(cache) == []  # the corrupt copy is gone, not kept for next time


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True),
                                             ("0", False), ("", False), ("no", False)])
def test_is_offline(monkeypatch, value, expected):
    monkeypatch.setenv("TFS_OFFLINE", value)
    assert data.is_offline() is expected


# --- split and batches ---------------------------------------------------------------------


def test_train_val_split_sizes_and_order():
    tokens = torch.arange(1000)
    train, val = data.train_val_split(tokens, 0.1)
    assert (len(train), len(val)) == (900, 100)
    assert torch.equal(torch.cat([train, val]), tokens)  # no shuffling, nothing lost
    assert train.dtype == val.dtype == torch.long
    train, val = data.train_val_split(list(range(10)), 0.25)
    assert train.tolist() == list(range(7)) and val.tolist() == [7, 8, 9]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_train_val_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        data.train_val_split(torch.arange(10), fraction)


def test_get_batch_shapes_and_shift():
    tokens = torch.arange(100) * 3  # values differ from positions
    x, y = data.get_batch(tokens, 5, 7, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 7) and x.dtype == torch.long
    assert torch.equal(x[:, 1:], y[:, :-1])
    for row_x, row_y in zip(x, y, strict=True):  # each row is a contiguous window, y one step ahead
        start = int(row_x[0]) // 3
        assert torch.equal(row_x, tokens[start:start + 7])
        assert torch.equal(row_y, tokens[start + 1:start + 8])


def test_get_batch_uses_every_valid_start():
    tokens = torch.arange(10)
    x, y = data.get_batch(tokens, 2000, 4, generator=torch.Generator().manual_seed(0))
    assert set(x[:, 0].tolist()) == set(range(6))  # starts 0..len-context_length-1
    assert int(y.max()) == 9


def test_get_batch_is_reproducible_with_a_seeded_generator():
    tokens = torch.arange(500)
    a = data.get_batch(tokens, 4, 8, generator=torch.Generator().manual_seed(1337))
    b = data.get_batch(tokens, 4, 8, generator=torch.Generator().manual_seed(1337))
    c = data.get_batch(tokens, 4, 8, generator=torch.Generator().manual_seed(1338))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_get_batch_needs_more_tokens_than_context_length():
    with pytest.raises(ValueError, match="context_length"):
        data.get_batch(torch.arange(8), 2, 8)


# --- compact vocabulary -------------------------------------------------------------------


def test_compact_vocab_round_trip():
    tokens = torch.tensor([50256, 11, 5, 11, 1000, 5])
    vocab = data.CompactVocab.from_tokens(tokens)
    assert vocab.ids == (5, 11, 1000, 50256) and len(vocab) == 4
    compact = vocab.to_compact(tokens)
    assert compact.tolist() == [3, 1, 0, 1, 2, 0]
    assert torch.equal(vocab.to_gpt2(compact), tokens)
    assert vocab.to_compact([]).numel() == 0


@pytest.mark.parametrize("unknown", [[6], [5, 12], [50257], [999_999], [-1]])
@pytest.mark.parametrize("unk", [False, True])
def test_compact_vocab_unknown_id(unknown, unk):
    vocab = data.CompactVocab.from_tokens([5, 11, 1000, 50256], unk=unk)
    if unk and 0 <= max(unknown) < 50257:  # a real GPT-2 id without a row: <unk>
        assert vocab.to_compact(unknown).tolist() == [vocab.to_compact([5]).item() if i == 5 else 4 for i in unknown]
        return
    with pytest.raises(KeyError, match="not in this compact vocabulary|GPT-2 ids are in 0..50256"):
        vocab.to_compact(unknown)


def test_compact_vocab_min_count_and_unk():
    train = [7, 7, 9, 3, 3, 3, 50256]  # 9 and 50256 occur once
    vocab = data.CompactVocab.from_tokens(train, min_count=2, unk=True)
    assert vocab.ids == (3, 7) and len(vocab) == 3 and vocab.unk_id == 2
    assert vocab.n_unk_ids == 50257 - 2
    assert vocab.to_compact([3, 9, 7, 12345]).tolist() == [0, 2, 1, 2]
    assert vocab.token_strings()[-1] == "<unk>" and len(vocab.token_strings()) == 3
    with pytest.raises(ValueError, match="<unk>"):
        vocab.to_gpt2([0, 2])
    with pytest.raises(ValueError, match="unk=True"):
        data.CompactVocab.from_tokens(train, min_count=2)


def test_full_vocab_log_prob_is_a_distribution_over_all_gpt2_ids():
    """Spreading p(<unk>) evenly over the ids it stands for gives probabilities that sum to 1."""
    vocab = data.CompactVocab.from_tokens([3, 7, 7, 3, 40000], min_count=2, unk=True)
    log_probs = torch.log_softmax(torch.tensor([[0.5, -1.0, 2.0]]), dim=-1)  # rows: 3, 7, <unk>
    every_id = torch.arange(50257)
    full = vocab.full_vocab_log_prob(log_probs.expand(50257, 3), vocab.to_compact(every_id))
    assert torch.isclose(full.double().exp().sum(), torch.tensor(1.0, dtype=torch.float64), atol=1e-5)
    assert torch.isclose(full[3], log_probs[0, 0]) and torch.isclose(full[7], log_probs[0, 1])
    assert torch.isclose(full[40000], log_probs[0, 2] - math.log(50257 - 2)) and full[11] == full[40000]
    plain = data.CompactVocab((3, 7, 40000))  # no <unk>: the row's own log-probability
    assert torch.equal(plain.full_vocab_log_prob(log_probs, torch.tensor([2])), log_probs[:, 2])


@pytest.mark.parametrize("bad", [[-1], [0, -4], [4], [1, 100]])
def test_compact_vocab_to_gpt2_rejects_ids_out_of_range(bad):
    """-1 must not silently mean the last id."""
    vocab = data.CompactVocab.from_tokens([5, 11, 1000, 50256])
    with pytest.raises(IndexError, match=r"compact ids must be in 0\.\.3"):
        vocab.to_gpt2(bad)
    assert vocab.to_gpt2([3, 0]).tolist() == [50256, 5]


# --- tokenizer and corpus -----------------------------------------------------------------


def test_encode_decode_round_trip():
    assert data.encode("Hello world") == [15496, 995]
    text = "Rapport first: a salesperson's follow-up, 2026.\n\tÜber café ✓"
    ids = data.encode(text)
    assert all(0 <= i < 50257 for i in ids)
    assert data.decode(ids) == text
    assert data.decode(torch.tensor(ids)) == text
    assert data.encode("<|endoftext|>") != [50256]  # special tokens are plain text here


def test_load_corpus_from_cache():
    dest = data.cache_dir() / data.CORPUS_FILENAME
    if not (dest.exists() and data.sha256_of(dest) == data.CORPUS_SHA256):
        pytest.skip("the corpus is not cached (run once with internet, or see scripts/offline.py)")
    text = data.load_corpus()
    assert len(text) == 460_319 and text.startswith("Chapter 1")
