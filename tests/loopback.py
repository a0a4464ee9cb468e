"""A local HTTP server for the download tests: 127.0.0.1 only, nothing leaves the machine."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@contextmanager
def serving(handler) -> Iterator[tuple[http.server.ThreadingHTTPServer, str]]:
    """Serve ``handler`` on a free port of 127.0.0.1 in a thread; yield ``(server, base URL)``.

    The server records request paths in ``server.hits``; ``server.release`` is an event a
    stalling handler can wait on (set on the way out, so no handler outlives the test)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.hits = []
    httpd.release = threading.Event()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    try:
        yield httpd, f"http://{host}:{port}"
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def no_proxy(monkeypatch) -> None:
    """Make sure no proxy setting stands between a download and 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
