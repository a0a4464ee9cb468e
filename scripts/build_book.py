"""Build the HTML book into _build/html with warnings as errors (`make book`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    cmd = [sys.executable, "-m", "jupyter_book", "build", str(ROOT), "--path-output", str(ROOT),
           "-W", "-n", "--keep-going"]
    # jupyter-book's console script is `jupyter-book`; its module has no __main__ in 1.x.
    jb = Path(sys.executable).with_name("jupyter-book")
    if jb.exists():
        cmd = [str(jb), *cmd[3:]]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main())
