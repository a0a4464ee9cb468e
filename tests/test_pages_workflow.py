"""The Pages workflow's Chapter 9 step: real GPT-2 weights, downloaded, checked, proven used.

``.github/workflows/pages.yml`` runs ``make execute-gpt2`` (``python -m scripts.publish_gpt2_chapter
--in-place``) before ``make book``: download the pinned ``model.safetensors``, run Chapter 9
on it, and fail unless the executed chapter says it used OpenAI's weights. Here a small
random GPT-2 in the hub's format (``make_standin_gpt2``) is served from 127.0.0.1 in place
of the hub, through the same functions and the same command line. Executing the chapter
itself takes too long for the suite; the check of its output is tested on the stored
chapter (which ran on the stand-in) and on a copy showing the real weights' lines.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import http.server
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from scripts.publish_gpt2_chapter import (
    CHAPTER,
    FILE_LINE,
    REAL_WEIGHTS,
    WEIGHTS_LINE,
    NotRealWeights,
    check_real_weights,
    fetch_weights,
    weights_report,
)
from shared import pretrained, reference
from shared.data import DownloadError
from tests.loopback import no_proxy, serving

ROOT = Path(__file__).resolve().parent.parent
MODULE = "scripts.publish_gpt2_chapter"  # run as `python -m MODULE` from ROOT, as the Makefile does
FAST = dict(timeout=2.0, retries=0, backoff=0.0, progress=False)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the files of one folder; records each request path; says nothing."""

    def do_GET(self):
        self.server.hits.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A stand-in GPT-2 on 127.0.0.1: ``(base URL, hits, sha256, size)``.

    The folder also holds ``short.safetensors`` (the first half, as an interrupted
    transfer leaves it) and ``corrupt.safetensors`` (the full length, one byte changed).
    """
    folder = tmp_path_factory.mktemp("hub")
    weights = reference.make_standin_gpt2(folder, n_layers=1, d_model=16, n_heads=2, context_length=8)
    body = weights.read_bytes()
    (folder / "short.safetensors").write_bytes(body[: len(body) // 2])
    (folder / "corrupt.safetensors").write_bytes(body[:-1] + bytes([body[-1] ^ 0xFF]))
    with serving(functools.partial(_Handler, directory=str(folder))) as (httpd, url):
        yield url, httpd.hits, hashlib.sha256(body).hexdigest(), len(body)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty book cache, downloads allowed, the pinned URL, no proxy in the way of 127.0.0.1."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("TFS_DATA_DIR", str(folder))
    for name in ("TFS_OFFLINE", pretrained.GPT2_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    no_proxy(monkeypatch)
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# --- the pin ------------------------------------------------------------------------------


def test_download_is_pinned_to_one_revision(monkeypatch):
    monkeypatch.delenv(pretrained.GPT2_URL_ENV, raising=False)
    assert pretrained.GPT2_REVISION == "607a30d783dfa663caf39e06633721c8d4cfcd7e"
    assert pretrained.gpt2_url() == pretrained.GPT2_URL == (
        "https://huggingface.co/openai-community/gpt2/resolve/"
        "607a30d783dfa663caf39e06633721c8d4cfcd7e/model.safetensors"
    )
    assert pretrained.GPT2_SHA256 == "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707"
    assert pretrained.GPT2_SIZE == 548_105_171
    monkeypatch.setenv(pretrained.GPT2_URL_ENV, "http://mirror.example/gpt2.safetensors")
    assert pretrained.gpt2_url() == "http://mirror.example/gpt2.safetensors"


# --- step 1: the download -----------------------------------------------------------------


def test_download_puts_the_verified_file_in_the_cache(served, cache):
    url, hits, sha256, size = served
    path = fetch_weights(url=f"{url}/model.safetensors", sha256=sha256, size=size, **FAST)
    assert path == cache / pretrained.GPT2_FILENAME
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    assert _files(cache) == [pretrained.GPT2_FILENAME]  # renamed into place: no temporary file left
    assert pretrained.read_safetensors_header(path)["transformer.wte.weight"]["shape"] == [50257, 16]
    before = len(hits)
    assert fetch_weights(url=f"{url}/model.safetensors", sha256=sha256, size=size, **FAST) == path
    assert len(hits) == before  # the verified cached copy is used, not downloaded again


def test_tfs_gpt2_url_redirects_the_download(served, cache, monkeypatch):
    url, hits, sha256, size = served
    monkeypatch.setenv(pretrained.GPT2_URL_ENV, f"{url}/model.safetensors?via-env")
    path = pretrained.download_gpt2_weights(sha256=sha256, size=size, **FAST)
    assert hits[-1] == "/model.safetensors?via-env" and path.stat().st_size == size


@pytest.mark.parametrize("name", ["short", "corrupt"])
def test_short_or_corrupt_file_is_refused(served, cache, name):
    url, _, sha256, size = served
    with pytest.raises(DownloadError, match=f"checksum mismatch: expected sha256 {sha256}"):
        fetch_weights(url=f"{url}/{name}.safetensors", sha256=sha256, size=size, **FAST)
    assert _files(cache) == []  # nothing half-written is left for the chapter to find


@pytest.mark.parametrize("cut", [False, True], ids=["same-size", "wrong-size"])
def test_bad_cached_copy_is_replaced(served, cache, cut):
    url, _, sha256, size = served
    dest = cache / pretrained.GPT2_FILENAME
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"\0" * (size // 2 if cut else size))
    path = fetch_weights(url=f"{url}/model.safetensors", sha256=sha256, size=size, **FAST)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def test_size_that_does_not_fit_the_hash_is_refused(served, cache):
    url, _, sha256, size = served
    with pytest.raises(DownloadError, match="do not describe the same file"):
        fetch_weights(url=f"{url}/model.safetensors", sha256=sha256, size=size + 1, **FAST)
    assert _files(cache) == []


def test_unreachable_url_is_a_clear_error(cache):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/model.safetensors"
    with pytest.raises(DownloadError, match=f"Could not download {re.escape(url)}") as err:
        fetch_weights(url=url, **FAST)
    assert "by hand" in str(err.value) and pretrained.GPT2_SHA256 in str(err.value)
    assert _files(cache) == []


def test_workflow_command_fails_loudly_on_other_bytes(served, cache, tmp_path):
    """The command the workflow runs, pointed at the stand-in: its bytes are not the pinned
    file's, so the step fails before executing anything, and says why."""
    url, _, _, _ = served
    out = tmp_path / "executed.ipynb"
    env = {**os.environ, pretrained.GPT2_URL_ENV: f"{url}/model.safetensors"}
    run = subprocess.run([sys.executable, "-m", MODULE, "--output", str(out)], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{url}/model.safetensors" in run.stdout
    assert f"checksum mismatch: expected sha256 {pretrained.GPT2_SHA256}" in run.stderr
    assert "Traceback" not in run.stderr and not out.exists() and _files(cache) == []


# --- step 3: the proof that the chapter used the real weights -----------------------------


def _stored_chapter():
    return nbformat.read(CHAPTER, as_version=4)


def _showing_real_weights(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code" and any(WEIGHTS_LINE in o.get("text", "") for o in cell.outputs):
            cell.outputs = [nbformat.v4.new_output(
                "stream", name="stdout", text=f"{WEIGHTS_LINE} {REAL_WEIGHTS}\n{FILE_LINE}\n")]
    return nb


def test_chapter_prints_the_lines_the_check_reads():
    """The check reads what Chapter 9's weights cell prints: the two must stay in step."""
    nb = _stored_chapter()
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and WEIGHTS_LINE in c.source]
    assert f'"{WEIGHTS_LINE}"' in cell.source and f'"{REAL_WEIGHTS}"' in cell.source
    lines = weights_report(nb)
    assert lines[0].startswith(WEIGHTS_LINE)
    standin_file = f"{reference.STANDIN_FOLDER}/model.safetensors"
    assert re.fullmatch(rf"file: {standin_file} \([\d,]+ bytes\)", lines[1])
    assert re.fullmatch(rf"file: {pretrained.GPT2_FILENAME} \([\d,]+ bytes\)", FILE_LINE)


def test_check_refuses_the_stored_standin_outputs():
    with pytest.raises(NotRealWeights, match="did not run on OpenAI's GPT-2: .*stand-in"):
        check_real_weights(_stored_chapter())


def test_check_accepts_the_real_weights_lines():
    assert check_real_weights(_showing_real_weights(_stored_chapter())) == f"{WEIGHTS_LINE} {REAL_WEIGHTS}"


def test_check_refuses_a_chapter_that_does_not_say():
    nb = _showing_real_weights(_stored_chapter())
    no_file = copy.deepcopy(nb)
    for cell in no_file.cells:
        for out in cell.get("outputs", []):
            if WEIGHTS_LINE in out.get("text", ""):
                out.text = f"{WEIGHTS_LINE} {REAL_WEIGHTS}\n"  # the name, but not the 548 MB file
    with pytest.raises(NotRealWeights, match="does not print"):
        check_real_weights(no_file)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    with pytest.raises(NotRealWeights, match="no output line"):
        check_real_weights(nb)


# --- the workflow -------------------------------------------------------------------------


def test_workflow_runs_chapter_9_on_real_weights_before_building():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["build"]
    runs = [step.get("run", "").strip() for step in job["steps"]]
    assert runs.count("make execute-gpt2") == 1 and runs.count("make book") == 1
    assert runs.index("make execute-gpt2") < runs.index("make book")
    assert not any("TFS_OFFLINE" in str(part) for part in (workflow.get("env"), job.get("env"), job["steps"]))
    (cached,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert cached["with"]["path"] == f"data/{pretrained.GPT2_FILENAME}"  # the cache folder the chapter reads
    assert job["steps"].index(cached) < runs.index("make execute-gpt2")

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^execute-gpt2:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe and recipe.group(1) == f"$(BIN)/python -m {MODULE} --in-place"


def test_make_book_does_not_execute_the_chapters():
    """Else `make book` would replace the real weights' outputs with a fresh (offline) run."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["execute"]["execute_notebooks"] == "off"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    book = re.search(r"^book:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1)
    assert "execute" not in book and "scripts/build_book.py" in book
    assert "nbclient" not in (ROOT / "scripts" / "build_book.py").read_text(encoding="utf-8")


def test_workflow_names_its_own_repository_before_building():
    """scripts/repository.py with the repository the workflow runs in, before anything runs
    the chapters or builds: the launch buttons, set-up cells and setup page then name it."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "").strip() for step in steps]
    (named,) = [s for s in steps if "scripts.repository" in s.get("run", "")]
    assert named["run"].strip() == 'python -m scripts.repository "$REPOSITORY"'
    assert named["env"]["REPOSITORY"] == "${{ github.repository }}"
    assert steps.index(named) < runs.index("make execute-gpt2") < runs.index("make book")
    checkout = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout < steps.index(named)


def test_workflow_prints_the_pdf_after_the_book_and_publishes_it():
    """make pdf after make book (it copies the PDFs into _build/html), before the upload."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "").strip() for step in steps]
    assert runs.count("make pdf") == 1
    pdf = steps[runs.index("make pdf")]
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert runs.index("make book") < runs.index("make pdf") < steps.index(upload)
    assert upload["with"]["path"] == "_build/html"
    assert pdf["env"]["TFS_CHROMIUM"] == "/usr/bin/google-chrome"  # the runner's browser
    (fonts,) = [r for r in runs if "fonts-noto-cjk" in r]
    assert "poppler-utils" in fonts and runs.index(fonts) < runs.index("make pdf")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^pdf:.*\n\t\$\(BIN\)/python -m scripts\.build_pdf$", makefile, re.MULTILINE)
    test = re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1).splitlines()
    assert test.index("\t$(BIN)/python scripts/build_book.py") < test.index("\t$(BIN)/python -m scripts.build_pdf") \
        < next(i for i, line in enumerate(test) if "$(PYTEST)" in line)
