"""Print the book to PDF (`make pdf`): one file per edition, maths typeset, offline.

    python -m scripts.build_pdf [--language en|zh_CN ...] [--jobs N] [--print-only]

For each edition (English, and Chinese where ``locale/zh_CN/`` exists; the two in
parallel processes by default):

1. Jupyter Book's ``singlehtml`` builder writes the whole book as one page, beside that
   edition's HTML build (``_build/singlehtml/``, ``_build/edition-zh_CN/_build/singlehtml/``)
   and reusing what `make book` read; MathJax is vendored beside it, as for the HTML book.
2. Debian's Chromium (``TFS_CHROMIUM`` names another), driven by Playwright, opens that
   page from a server on 127.0.0.1 (any free port; every other request is aborted and
   fails the build), waits for ``MathJax.startup.promise`` and the fonts, makes each
   document a top-level section with an ``<h1>`` title, opens what the book hides behind a
   toggle, drops the Colab set-up cells, adds a title page and a table of contents, and
   prints it with print media on A4 with backgrounds, tagged, with bookmarks from the
   headings and the page number in the footer.
3. Where ``pdftotext`` (poppler-utils) is installed, the table of contents gets the
   page number of each document: a quick untagged print first, the titles found in its
   text, then the final print with the numbers (same layout, one line per entry).

The result is ``_build/pdf/transformer-from-scratch.pdf`` and
``_build/pdf/transformer-from-scratch-zh.pdf``, each also copied to the top of its
edition's HTML folder, where the download menu links to it (book/_ext/book_pdf.py). The
print styles (page breaks, wrapped code, slider figures as their first frame, the CJK
font) are in ``book/_static/custom.css``, so that printing a page from the browser looks
alike; tests/test_pdf.py checks the files.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scripts.build_book import LANGUAGES, edition_config, jupyter_book, vendor_mathjax

ROOT = Path(__file__).resolve().parent.parent
# Debian's chromium, as in tests/test_browser.py; TFS_CHROMIUM names another Chrome or
# Chromium (the Pages workflow's runner has Google Chrome and no Debian chromium).
CHROMIUM = os.environ.get("TFS_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--font-render-hinting=none"]
MARGIN = {"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"}

# The words the PDF adds, per edition.
WORDS = {
    "en": {"contents": "Contents", "from": "Printed from the book's notebooks at",
           "edition": "Edition of", "html_lang": "en"},
    "zh_CN": {"contents": "目录", "from": "本书的 notebook 源文件：", "edition": "版本日期",
              "html_lang": "zh-CN"},
}

# Run in the page before printing. The single page nests every document of the book inside
# the root document's table of contents, its headings demoted (a chapter's title is an
# <h3>); here each document becomes a section of its own at the top level of the article,
# its title an <h1> and the headings below it shifted alike, so that the PDF's bookmarks
# (made from the headings) are the book's chapters and their sections. Then a title page
# and a table of contents (one linked entry per document) go in front, and what has no
# place on paper goes out. Returns the contents' entries as [id, title].
PREPARE_JS = r"""
(args) => {
  const article = document.querySelector("article.bd-article");
  document.getElementById("jb-print-docs-body")?.remove();  // the theme's print header
  document.querySelectorAll(".tfs-language-link").forEach((p) => p.remove());
  // The set-up cell of each chapter installs the book in Colab: nothing to print.
  document.querySelectorAll("div.cell").forEach((cell) => {
    const code = cell.querySelector(".cell_input pre");
    if (code && code.textContent.includes('"google.colab" in sys.modules')) cell.remove();
  });
  // What the book hides behind a toggle (exercise solutions, answers) is printed open;
  // a code cell's toggle loses its "Show code cell content" label.
  document.querySelectorAll("details").forEach((details) => {
    details.open = true;
    if (details.classList.contains("hide")) details.querySelector(":scope > summary")?.remove();
  });
  const documents = [article.querySelector(":scope > section")];
  document.querySelectorAll('span[id^="document-"]').forEach((span) => {
    let section = span.nextElementSibling;
    while (section && section.tagName !== "SECTION") section = section.nextElementSibling;
    if (section) {
      section.prepend(span);  // the span's id is the target of links to the document
      documents.push(section);
    }
  });
  documents.slice(1).forEach((section) => article.append(section));
  document.querySelectorAll(".toctree-wrapper").forEach((wrapper) => {
    if (!wrapper.textContent.trim()) wrapper.remove();
  });
  const HEADINGS = "h1, h2, h3, h4, h5, h6";
  const entries = [];
  documents.forEach((section) => {
    section.classList.add("tfs-print-document");
    const shift = Number(section.querySelector(HEADINGS).tagName[1]) - 1;
    section.querySelectorAll(HEADINGS).forEach((old) => {
      const level = Math.max(1, Number(old.tagName[1]) - shift);
      if (level === Number(old.tagName[1])) return;
      const heading = document.createElement("h" + level);
      for (const attr of old.attributes) heading.setAttribute(attr.name, attr.value);
      heading.append(...old.childNodes);
      old.replaceWith(heading);
    });
    const title = section.querySelector("h1").cloneNode(true);
    title.querySelectorAll(".headerlink").forEach((a) => a.remove());
    entries.push([section.id, title.textContent.trim()]);
  });
  const h = (tag, text, cls) => {
    const el = document.createElement(tag);
    el.textContent = text;
    if (cls) el.className = cls;
    return el;
  };
  const cover = document.createElement("section");
  cover.className = "tfs-print-cover";
  cover.append(h("p", args.title, "tfs-print-title"), h("p", args.author, "tfs-print-author"));
  const source = h("p", args.from + " ", "tfs-print-source");
  const link = h("a", args.repository);
  link.href = args.repository;
  source.append(link);
  cover.append(source);
  if (args.date) cover.append(h("p", args.edition + " " + args.date, "tfs-print-date"));
  const toc = document.createElement("nav");
  toc.className = "tfs-print-toc";
  toc.append(h("p", args.contents, "tfs-print-toc-title"));
  const list = document.createElement("ol");
  entries.forEach(([id, text]) => {
    const item = document.createElement("li");
    const a = h("a", text);
    a.href = "#" + id;
    const page = h("span", "", "tfs-print-page");
    page.dataset.target = id;
    item.append(a, page);
    list.append(item);
  });
  toc.append(list);
  article.prepend(cover, toc);
  return entries;
}
"""

# The page numbers found in the first print, written into the contents.
PAGE_NUMBERS_JS = r"""
(pages) => document.querySelectorAll(".tfs-print-page").forEach((span) => {
  span.textContent = pages[span.dataset.target] || "";
})
"""

FOOTER = ('<div style="width:100%;font-size:8px;color:#666;text-align:center;'
          'font-family:sans-serif"><span class="pageNumber"></span></div>')


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def build_singlehtml(root: Path, language: str) -> Path:
    """The whole book as one page: .../_build/singlehtml/index.html.

    It is built beside the HTML build of the same edition (``<root>/_build/singlehtml``,
    ``<root>/_build/edition-<language>/_build/singlehtml``) and without ``--all``, so that
    Sphinx reuses what `make book` read (the doctrees) and only writes the page; from a
    clean clone it reads everything first.
    """
    out = singlehtml_folder(root, language).parent.parent
    args = ["--builder", "singlehtml", "--path-output", str(out)]
    if language != "en":
        args += ["--config", str(edition_config(root, language))]
    if jupyter_book(root, *args, fresh=False) != 0:
        raise SystemExit(f"the single-page build of the {language} edition failed")
    site = out / "_build" / "singlehtml"
    # Sphinx writes the page as <root_doc>.html (book/intro.html) but links its assets
    # from the folder above; served as index.html at the top, every link resolves.
    (page,) = [p for p in site.rglob("*.html") if p.parent != site and "_static" not in p.parts]
    text = page.read_text(encoding="utf-8")
    # One MathJax, beside the page (the edition's configuration points one folder up).
    text = re.sub(r'src="[^"]*_vendor/mathjax/tex-chtml\.js[^"]*"',
                  'src="_vendor/mathjax/tex-chtml.js"', text)
    (site / "index.html").write_text(text, encoding="utf-8")
    vendor_mathjax(site)
    return site


def pdf_names(root: Path = ROOT) -> dict[str, str]:
    """{language: file name}, as book/_ext/book_pdf.py (the download menu's link) names them."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("book_pdf", root / "book" / "_ext" / "book_pdf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PDF_FILES


def publish(root: Path, language: str, pdf: Path) -> Path | None:
    """Copy the PDF to the top of its edition's HTML folder, where the download menu's
    link points (only where that edition was built: `make book`)."""
    html = root / "_build" / "html"
    if language != "en":
        html = html / LANGUAGES[language]["folder"]
    if not (html / "index.html").is_file():
        return None
    shutil.copyfile(pdf, html / pdf.name)
    return html / pdf.name


def singlehtml_folder(root: Path, language: str) -> Path:
    out = root if language == "en" else root / "_build" / f"edition-{language}"
    return out / "_build" / "singlehtml"


def edition_date(root: Path) -> str:
    """The date of the commit the book was built from (empty outside a git checkout)."""
    try:
        run = subprocess.run(["git", "log", "-1", "--format=%cs"], cwd=root,
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ""
    return run.stdout.strip() if run.returncode == 0 else ""


def title_on_page(title: str, page: str) -> bool:
    """True when page (pdftotext's text of one page) shows title: as written, or, for a
    heading that wraps, with its pieces in another order at the top of the page (pdftotext
    reads "6. 多头注意力与 Transformer / 块" as "6. 块 多头注意力与 Transformer")."""
    wanted = re.sub(r"\s+", " ", title).strip()
    if wanted in re.sub(r"\s+", " ", page):
        return True
    top = re.sub(r"\s+", "", page)[:len(wanted) + 40]
    return all(piece in top for piece in wanted.split())


def chapter_pages(pdf: Path, titles: list[str]) -> list[int | None]:
    """The page (1-based) on which each title first appears after the contents, in order;
    None where pdftotext is missing or the title is not found."""
    if not shutil.which("pdftotext"):
        return [None] * len(titles)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [re.sub(r"\s+", " ", p).strip() for p in text.split("\f")]
    found, start = [], 2  # page 1 is the cover; the contents come next
    for title in titles:
        hit = next((i for i in range(start, len(pages)) if title_on_page(title, pages[i])), None)
        found.append(None if hit is None else hit + 1)
        if hit is not None:
            start = hit
    return found


# The font each edition's text needs, as fontconfig names it (book/_static/custom.css
# asks for it in print); without it Chromium would print Chinese with whatever it finds.
FONTS = {"zh_CN": ("Noto Sans CJK SC", "fonts-noto-cjk")}


def check_fonts(language: str) -> None:
    if language not in FONTS:
        return
    family, package = FONTS[language]
    try:
        families = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True,
                                  timeout=60).stdout
    except OSError:
        families = ""
    if family not in families:
        raise SystemExit(f"The {language} PDF needs the font {family!r}: apt-get install {package}")


def print_pdf(site: Path, target: Path, language: str, root: Path = ROOT) -> list[list[str]]:
    """Print site/index.html to target; return the contents' entries, [id, title] each."""
    check_fonts(language)
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    import yaml

    config_file = root / "_config.yml"
    if language != "en":
        config_file = edition_config(root, language)
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    words = WORDS[language]
    args = {"title": config["title"], "author": config["author"], "repository": config["repository"]["url"],
            "date": edition_date(root), **words}

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(origin + "/") or url.startswith("data:"):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1000, "height": 1400})
                page.route("**/*", route)
                page.emulate_media(media="print")
                page.goto(f"{origin}/index.html", wait_until="load", timeout=600_000)
                page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                       timeout=120_000)
                page.evaluate("() => MathJax.startup.promise.then(() => document.fonts.ready).then(() => true)")
                errors = page.evaluate("() => document.querySelectorAll('mjx-merror').length")
                if errors:
                    raise SystemExit(f"MathJax could not typeset {errors} formulas of the {language} edition")
                entries = page.evaluate(PREPARE_JS, args)
                page.evaluate("() => document.fonts.ready.then(() => true)")
                pdf_options = dict(path=str(target), format="A4", print_background=True,
                                   margin=MARGIN, display_header_footer=True,
                                   header_template="<span></span>", footer_template=FOOTER)
                if shutil.which("pdftotext"):
                    # A first, plain print (untagged: a third of the time) finds the page
                    # on which each document starts; the final print has the same layout.
                    page.pdf(**pdf_options)
                    numbers = chapter_pages(target, [title for _, title in entries])
                    page.evaluate(PAGE_NUMBERS_JS, {id_: str(n) for (id_, _), n
                                                    in zip(entries, numbers, strict=True) if n})
                # Tagged, with bookmarks made from the headings (Chrome needs both for those).
                page.pdf(**pdf_options, tagged=True, outline=True)
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()
    if blocked:
        target.unlink(missing_ok=True)
        raise SystemExit("The PDF must load nothing from the network; the page asked for:\n  "
                         + "\n  ".join(sorted(set(blocked))))
    return entries


def editions(root: Path) -> list[str]:
    return ["en", *(lang for lang in LANGUAGES if (root / "locale" / lang).is_dir())]


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--language", action="append", choices=["en", *LANGUAGES],
                        help="only this edition (repeatable; default: every edition)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the single page built before, without building it again")
    parser.add_argument("--jobs", type=int, default=2,
                        help="editions printed at the same time, each in its own process (default 2)")
    options = parser.parse_args(argv)
    languages = options.language or editions(root)
    if len(languages) > 1 and options.jobs > 1:
        return in_parallel(root, languages, options)
    out = root / "_build" / "pdf"
    for language in languages:
        start = time.monotonic()
        site = (singlehtml_folder(root, language) if options.print_only
                else build_singlehtml(root, language))
        built = time.monotonic()
        target = out / pdf_names(root)[language]
        print_pdf(site, target, language, root)
        copy = publish(root, language, target)
        print(f"{target.relative_to(root)}: {target.stat().st_size / 1e6:.1f} MB "
              f"(single page {built - start:.0f} s, print {time.monotonic() - built:.0f} s)"
              + (f", copied to {copy.relative_to(root)}" if copy else ""))
    return 0


def in_parallel(root: Path, languages: list[str], options: argparse.Namespace) -> int:
    """Each edition in a process of its own, `options.jobs` at a time; each one's output is
    shown when it ends (all of it when it failed, else its last line)."""
    start, status = time.monotonic(), 0
    waiting = list(languages)
    running: list[tuple[str, subprocess.Popen]] = []
    while waiting or running:
        while waiting and len(running) < options.jobs:
            language = waiting.pop(0)
            cmd = [sys.executable, "-m", "scripts.build_pdf", "--language", language,
                   *(["--print-only"] if options.print_only else [])]
            running.append((language, subprocess.Popen(cmd, cwd=root, stdout=subprocess.PIPE,
                                                       stderr=subprocess.STDOUT, text=True)))
        language, process = running.pop(0)
        output, _ = process.communicate()
        if process.returncode != 0:
            status = 1
            print(output, end="")
            print(f"The {language} PDF failed (status {process.returncode}).", file=sys.stderr)
        else:
            print(output.strip().splitlines()[-1])
    print(f"{len(languages)} PDFs in {time.monotonic() - start:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
