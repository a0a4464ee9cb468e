"""The book's PDFs (`make pdf`, scripts/build_pdf.py), read back with poppler-utils.

`make test` prints them after building the HTML book; these tests read
``_build/pdf/transformer-from-scratch.pdf`` and, where ``locale/zh_CN`` exists, the
Chinese edition's ``transformer-from-scratch-zh.pdf``:

* every chapter's title is in the text, and the contents give each document's page;
* no maths is left as TeX (``$``, ``\\frac``, ``\\sqrt``, ...) outside the code, which
  prints its matplotlib labels as written;
* every font is embedded (the Chinese edition's CJK font too); every page is A4; the
  page count is sane; no page is blank (each is rendered small and must have ink above
  the footer); the diagrams are vector graphics (their labels are text);
* the PDF is published: copied into the HTML book, whose download menu links to it.

On a reader's machine, a PDF that was not built is skipped; with ``CI`` set it fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scripts.build_pdf import title_on_page

ROOT = Path(__file__).resolve().parent.parent
PDF_DIR = ROOT / "_build" / "pdf"
HTML_DIR = ROOT / "_build" / "html"
EDITIONS = {"en": ("transformer-from-scratch.pdf", ""),
            "zh_CN": ("transformer-from-scratch-zh.pdf", "zh/")}
PAGES = range(120, 800)  # the English PDF had 335 pages when this was written
RAW_TEX = ["$", "\\frac", "\\sqrt", "\\text{", "\\begin{", "\\mathrm", "\\cdot", "\\("]
TOOLS = ["pdftotext", "pdffonts", "pdfinfo", "pdftoppm"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def editions() -> list[str]:
    return ["en"] + (["zh_CN"] if (ROOT / "locale" / "zh_CN").is_dir() else [])


@pytest.fixture(scope="module", params=editions())
def edition(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def pdf(edition) -> Path:
    path = PDF_DIR / EDITIONS[edition][0]
    missing = [tool for tool in TOOLS if not shutil.which(tool)]
    problem = (f"{', '.join(missing)} missing (apt-get install poppler-utils)" if missing
               else None if path.is_file() else f"{path} was not built: run `make pdf`")
    if problem:
        if IN_CI:
            pytest.fail(f"CI is set: {problem}")
        pytest.skip(problem)
    return path


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True, encoding="utf-8").stdout


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    """The text of each page, whitespace collapsed."""
    text = run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    return [re.sub(r"\s+", " ", page).strip() for page in text.split("\f")][: page_count(pdf)]


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(pdf)), re.MULTILINE).group(1))


# -- what the book is made of -------------------------------------------------------------
def documents() -> list[str]:
    """The book's documents in _toc.yml's order (without suffix), root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for part in toc["parts"] for entry in part["chapters"]]


def english_title(document: str) -> str:
    path = ROOT / f"{document}.ipynb"
    if path.is_file():
        first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"]
        text = "".join(first)
    else:
        text = (ROOT / f"{document}.md").read_text(encoding="utf-8")
    return re.search(r"^# (.+)$", text, re.MULTILINE).group(1).strip()


def title(document: str, edition: str) -> str:
    """The document's title in that edition (the English one where it is not translated)."""
    english = english_title(document)
    if edition == "en":
        return english
    from babel.messages.pofile import read_po

    po = ROOT / "locale" / edition / "LC_MESSAGES" / f"{document}.po"
    if po.is_file():
        with po.open("rb") as handle:
            message = read_po(handle).get(english)
        if message and message.string and not message.fuzzy:
            return re.sub(r"\\(.)", r"\1", message.string.strip())  # Markdown's escapes: 5\. -> 5.
    return english


def code_text() -> str:
    """Every code cell's source and text output, and every fenced block, whitespace collapsed:
    text that may legitimately contain a dollar sign or a backslash command."""
    parts = []
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                parts.append("".join(cell["source"]))
                for output in cell.get("outputs", []):
                    parts.append("".join(output.get("text", "")))
                    parts.append("".join(output.get("data", {}).get("text/plain", "")))
            else:
                parts += re.findall(r"```.*?```", "".join(cell["source"]), re.DOTALL)
    for path in sorted((ROOT / "book").glob("*.md")):
        parts += re.findall(r"```.*?```", path.read_text(encoding="utf-8"), re.DOTALL)
    return re.sub(r"\s+", "", "\n".join(parts))


# -- the tests ----------------------------------------------------------------------------
def test_every_chapter_title_is_in_the_text(pages, edition):
    text = " ".join(pages)
    missing = [title(doc, edition) for doc in documents() if title(doc, edition) not in text]
    assert not missing, f"not in the PDF's text: {missing}"


def test_the_contents_give_each_documents_page(pdf, pages, edition):
    # Page 1 is the title page; page 2 the contents, read in its layout (title, page).
    contents = re.sub(r"\s+", " ", run("pdftotext", "-layout", "-enc", "UTF-8", "-f", "2", "-l", "2", str(pdf), "-"))
    for document in documents():
        name = title(document, edition)
        match = re.search(re.escape(name) + r" (\d+)\b", contents)
        assert match, f"the contents have no page number for {name!r}: {contents[:500]}"
        page = int(match.group(1))
        assert title_on_page(name, pages[page - 1]), f"{name!r} is not on page {page}, where the contents say"


def test_no_raw_tex_outside_the_code(pages):
    code = code_text()
    found = []
    for number, page in enumerate(pages, start=1):
        for line in re.split(r"(?<=[.:;!?])\s", page):
            if any(tex in line for tex in RAW_TEX):
                # A line of code or output (wrapped anywhere): its characters, spaces
                # aside, are a stretch of some cell. Try the line's pieces around spaces.
                pieces = [p for p in line.split(" ") if any(tex in p for tex in RAW_TEX)]
                if any(re.sub(r"\s+", "", p) not in code for p in pieces):
                    found.append(f"page {number}: {line[:160]}")
    assert not found, "maths left untypeset:\n" + "\n".join(found[:20])


def test_every_font_is_embedded(pdf, edition):
    rows = run("pdffonts", str(pdf)).splitlines()[2:]
    assert rows, "pdffonts lists no font"
    not_embedded = [row for row in rows if row.split()[-5] != "yes"]
    assert not not_embedded, "fonts not embedded:\n" + "\n".join(not_embedded)
    if edition == "zh_CN":
        # Chromium embeds Noto Sans CJK (CFF outlines) as Type 3 fonts: each glyph a vector
        # drawing, with a Unicode map (uni: yes), so the Chinese text is searchable. The
        # print styles ask for that font, and scripts/build_pdf.py refuses to print without it.
        assert any(row.startswith("[none]") and row.split()[1:3] == ["Type", "3"]
                   and row.split()[-3] == "yes" for row in rows)
        css = (ROOT / "book" / "_static" / "custom.css").read_text(encoding="utf-8")
        assert '"Noto Sans CJK SC"' in css.split("@media print", 1)[1]


def test_every_page_is_a4_and_the_count_is_sane(pdf):
    count = page_count(pdf)
    assert count in PAGES, f"{count} pages"
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts",
                       run("pdfinfo", "-f", "1", "-l", str(count), str(pdf)), re.MULTILINE)
    assert len(sizes) == count
    wrong = {(w, h) for w, h in sizes if abs(float(w) - 595.3) > 2 or abs(float(h) - 841.9) > 2}
    assert not wrong, f"pages that are not A4 (595 x 842 pt): {wrong}"


def test_no_page_is_blank(pdf, tmp_path):
    """Every page, rendered at 20 dpi in grey, has ink above the footer (its page number)."""
    run("pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp_path / "page"))
    blank = []
    for image in sorted(tmp_path.glob("page-*.pgm")):
        data = image.read_bytes()
        magic, width, height, maxval, pixels = re.match(rb"(P5)\s+(\d+)\s+(\d+)\s+(\d+)\s(.*)", data,
                                                        re.DOTALL).groups()
        width, height = int(width), int(height)
        body = pixels[: width * int(height * 0.9)]  # above the bottom margin with the page number
        if min(body) > 200:
            blank.append(image.stem)
    assert len(list(tmp_path.glob("page-*.pgm"))) == page_count(pdf)
    assert not blank, f"blank pages: {blank}"


def test_diagrams_are_vector_graphics(pages, edition):
    """The SVG diagrams print as drawings with text, not as pictures: their labels are text."""
    text = " ".join(pages)
    # a heading inside book/_static/figures/gpt_data_flow.svg (zh_CN/gpt_data_flow.svg in Chinese)
    assert {"en": "Sizes in the book", "zh_CN": "书中的模型规模"}[edition] in text


def test_slider_figures_say_where_the_interactive_version_is(pages, edition):
    note = {"en": "Move its sliders in the online book", "zh_CN": "可以拖动滑块"}[edition]
    count = sum(page.count(note) for page in pages)
    assert count >= 6, f"{count} slider figures and explorers say where their interactive version is"


def test_the_published_book_links_its_pdf(pdf, edition):
    name, folder = EDITIONS[edition]
    if not (HTML_DIR / folder / "index.html").is_file():
        pytest.skip("the HTML book was not built")
    published = HTML_DIR / folder / name
    assert published.is_file() and published.read_bytes() == pdf.read_bytes()
    page = (HTML_DIR / folder / "chapters" / "01_text_to_tokens.html").read_text(encoding="utf-8")
    assert f'href="../{name}"' in page, "the download menu does not link to the PDF"
