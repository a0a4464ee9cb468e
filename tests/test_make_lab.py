"""`make lab`: JupyterLab on 127.0.0.1, with --allow-root only when the effective user is root.

Jupyter refuses to start as root ("Running as root is not recommended. Use --allow-root"),
which is how a container or a cloud machine runs it. The recipe's command line is read with
`make -n` (the user faked with LAB_UID, and the virtual environment's stamp taken as up to
date, so nothing is installed); then the command itself starts a server, which must listen
on 127.0.0.1 only and print its URL with the token.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAMP = ".venv/.installed"  # the Makefile's $(STAMP)

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def lab_command(*overrides: str) -> list[str]:
    """The command `make lab` would run, as words (`make -n`: printed, not run)."""
    run = subprocess.run(["make", "--no-print-directory", "-n", "-o", STAMP, "lab", *overrides],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    lines = [line for line in run.stdout.splitlines() if "jupyter" in line]
    assert len(lines) == 1, run.stdout
    return shlex.split(lines[0])


@pytest.mark.parametrize(("uid", "root"), [("0", True), ("1000", False), ("501", False)])
def test_allow_root_only_for_root(uid, root):
    command = lab_command(f"LAB_UID={uid}")
    assert command[0].endswith("/jupyter") and command[1] == "lab" and command[-1] == "chapters/"
    assert ("--allow-root" in command) is root
    assert "--ip=127.0.0.1" in command


def test_the_real_user_decides():
    """Without LAB_UID, the Makefile asks `id -u` (the effective user id)."""
    assert ("--allow-root" in lab_command()) is (os.geteuid() == 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_starts_on_localhost_and_prints_its_url_with_token(tmp_path):
    """The recipe's command, as this user, starts a server (as root too) on 127.0.0.1 only."""
    psutil = pytest.importorskip("psutil")
    command = lab_command()
    jupyter = ROOT / command[0]
    if not jupyter.exists():
        jupyter = Path(sys.executable).with_name("jupyter")
    port = free_port()
    # No browser; this port or none; the user's own Jupyter settings and runtime files kept out.
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "run")}
    server = subprocess.Popen([str(jupyter), *command[1:], "--no-browser", f"--port={port}",
                               "--ServerApp.port_retries=0"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(server.stdout), daemon=True)
    reader.start()
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.5)
            found = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=[0-9a-f]{{16,}})", "".join(lines))
            url = found and found.group(1)
        assert url, f"no URL with a token after {time.monotonic() - deadline + 120:.0f} s:\n" + "".join(lines)[-3000:]
        token = url.split("token=")[1]
        # Jupyter Server prints its URL before its event loop binds the port (the bind is a
        # callback on that loop), so a refused connection just after the URL is not yet a failure.
        # No proxy: the request is for this machine's loopback only.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        status = None
        deadline = time.monotonic() + 60
        while status is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with opener.open(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=30) as response:
                    status = response.status
            except urllib.error.URLError as error:
                if not isinstance(error.reason, ConnectionRefusedError):
                    raise
                time.sleep(0.5)
        assert status == 200, f"status {status}, server exit code {server.poll()}:\n" + "".join(lines)[-3000:]
        listening = {c.laddr for c in psutil.Process(server.pid).net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}, listening
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert "Running as root is not recommended" not in "".join(lines)
