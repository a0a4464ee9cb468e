"""The published book, checked in a real browser (Debian's chromium through Playwright).

`make test` builds the book into _build/html first (scripts/build_book.py); these
tests serve that folder on 127.0.0.1 and open every page with the network cut off:
any request to another host is aborted, and an aborted request fails the page. So
the book must be fully self-contained (MathJax included).

* every slider figure and next-token explorer reacts to the mouse;
* every page: no console errors, no failed requests, every image loaded and every
  image in the article has alt text, the maths
  typeset (no raw TeX left, no MathJax errors), every internal link and anchor
  resolves, the Colab and download links of chapters are well-formed, every progress bar
  shows where its loop ended (not 0% with "?" placeholders). A full-page
  screenshot of each page goes to _build/screenshots/ for a human to look at;
* every diagram of book/_static/figures/ is on a page, loads, fits the column and sits on
  a light panel in light and dark mode;
* the Chinese edition (_build/html/zh/) passes the same page and slider checks, each page
  links to the same page in the other edition and back, its widgets and the theme speak
  Chinese, and its search (jieba) finds the chapters by their Chinese terms.

Set TFS_BOOK_HTML to test another build (a scratch copy of the book).
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML_DIR = Path(os.environ.get("TFS_BOOK_HTML", ROOT / "_build" / "html")).resolve()
BOOK_ROOT = HTML_DIR.parent.parent  # <book>/_build/html
SCREENSHOTS = HTML_DIR.parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SKIP_DIRS = {"_static", "_sources", "_images", "_vendor", "_downloads", "jupyter_execute"}
SKIP_PAGES = {"genindex.html", "search.html", "zh/genindex.html", "zh/search.html"}
EDITION = "zh"  # the Chinese edition's folder inside HTML_DIR

# TeX that MathJax should have replaced: seen in the visible text, the maths was not typeset.
RAW_TEX = ["$$", "\\(", "\\)", "\\[", "\\]", "\\begin{", "\\frac", "\\text{"]

SLIDER_FIGURE = 'class="tfs-widget tfs-slider-figure"'
TOKEN_EXPLORER = 'class="tfs-widget tfs-token-explorer"'

if os.environ.get("CI", "").lower() in {"1", "true", "yes"} and not Path(CHROMIUM).exists():
    # On a reader's machine the browser tests are optional; in CI a missing browser is a failure.
    raise RuntimeError(f"CI is set but {CHROMIUM} is missing: install Debian's chromium (.ci/run does).")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium) - browser tests skipped"),
    pytest.mark.skipif(not (HTML_DIR / "index.html").exists(),
                       reason=f"no built book in {HTML_DIR}: run `python scripts/build_book.py` first"),
]


def _zh_widget_strings() -> dict[str, str]:
    """What the Chinese pages show for a widget's English strings: locale/zh_CN/widgets.tsv,
    read as the book's build reads it (book/_ext/editions.py)."""
    from book._ext.editions import read_table

    table = BOOK_ROOT / "locale" / "zh_CN" / "widgets.tsv"
    return {html.unescape(k): v for k, v in read_table(table).items()} if table.exists() else {}


ZH_WIDGET_STRINGS = _zh_widget_strings()


def book_pages() -> list[str]:
    """Every HTML page of the book, relative to HTML_DIR (not search, index, assets)."""
    if not HTML_DIR.is_dir():
        return []
    pages = []
    for path in sorted(HTML_DIR.rglob("*.html")):
        rel = path.relative_to(HTML_DIR)
        if set(rel.parts[:2]) & SKIP_DIRS or rel.as_posix() in SKIP_PAGES:
            continue
        pages.append(rel.as_posix())
    return pages


def is_redirect(page: str) -> bool:
    """Jupyter Book's root index.html is a one-line meta refresh to the first page."""
    return 'http-equiv="Refresh"' in (HTML_DIR / page).read_text(encoding="utf-8")


def widget_counts(page: str) -> tuple[int, int]:
    """(slider figures, token explorers) in a built page, counted in its HTML."""
    text = (HTML_DIR / page).read_text(encoding="utf-8")
    return text.count(SLIDER_FIGURE), text.count(TOKEN_EXPLORER)


@functools.cache
def ids_in(file: Path) -> frozenset[str]:
    text = file.read_text(encoding="utf-8", errors="replace")
    return frozenset(m.group(2) for m in re.finditer(r'\b(id|name)="([^"]+)"', text))


def repository_settings() -> tuple[str, str, str]:
    """(owner/repo, branch, path_to_book) from the book's _config.yml."""
    import yaml

    config = yaml.safe_load((BOOK_ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]
    owner_repo = urlparse(repo["url"]).path.strip("/").removesuffix(".git")
    return owner_repo, repo.get("branch", "main"), (repo.get("path_to_book") or "").strip("/")


# -- fixtures: a local server, one browser, pages that may not reach the network ----------
class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def base_url():
    handler = functools.partial(QuietHandler, directory=str(HTML_DIR))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: any free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class PageProblems:
    """Collects what went wrong while a page loaded."""

    def __init__(self):
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.blocked: list[str] = []

    def all(self) -> list[str]:
        return ([f"console error: {e}" for e in self.console_errors]
                + [f"failed request: {f}" for f in self.failed]
                + [f"blocked request to another host: {b}" for b in self.blocked])


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems = PageProblems()

    def route(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            problems.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.console_errors.append(
        f"{msg.text} ({msg.location.get('url', '')})"))
    page.on("pageerror", lambda exc: problems.console_errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda req: problems.failed.append(f"{req.url} ({req.failure})"))
    page.on("response", lambda resp: resp.status >= 400 and problems.failed.append(
        f"{resp.url} (HTTP {resp.status})"))
    page.problems = problems
    yield page
    context.close()


def test_every_toc_entry_was_built():
    """The pages tested below are the whole book: each _toc.yml entry has its page."""
    import yaml

    toc = yaml.safe_load((BOOK_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    pages = set(book_pages())
    missing = [f for f in files if f"{Path(f).with_suffix('').as_posix()}.html" not in pages]
    assert not missing, f"table-of-contents entries with no built page: {missing}"


# -- a) slider figures --------------------------------------------------------------------
def test_the_book_has_slider_figures():
    """Guard against a vacuous pass: the chapters do contain interactive figures."""
    total = sum(sum(widget_counts(p)) for p in book_pages())
    assert total >= 1, "no slider figure or next-token explorer found in the built book"


def drag(page, locator, to: float) -> None:
    """Drag a range input's thumb with the mouse to a fraction `to` of its track."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box and box["width"] > 0, "the slider is not visible"
    y = box["y"] + box["height"] / 2
    # The thumb's centre travels between half a thumb (about 16 px) from each end.
    left, right = box["x"] + 8, box["x"] + box["width"] - 8
    # Grab the thumb where it is now, then drag it.
    lo, hi = (float(locator.get_attribute(a)) for a in ("min", "max"))
    now = (float(locator.input_value()) - lo) / (hi - lo) if hi > lo else 0.0
    page.mouse.move(left + now * (right - left), y)
    page.mouse.down()
    page.mouse.move(left + to * (right - left), y, steps=8)
    page.mouse.up()


def check_slider_figure(page, figure) -> None:
    data = json.loads(figure.locator("script.tfs-data").text_content())
    img = figure.locator("img.tfs-frame")
    assert img.get_attribute("alt"), "a slider figure has no alt text"
    # The first frame is stored once, as the image's source (null in the data).
    data["frames"][0] = data["frames"][0] or img.get_attribute("src")
    controls = figure.locator("[data-tfs-control]")
    assert controls.count() == len(data["sizes"])
    assert len(data["frames"]) == functools.reduce(lambda a, b: a * b, data["sizes"])
    for i in range(controls.count()):
        control = controls.nth(i)
        if data["sizes"][i] < 2:
            continue
        before = img.get_attribute("src")
        if control.evaluate("el => el.tagName") == "SELECT":
            current = int(control.evaluate("el => el.selectedIndex"))
            control.select_option(index=(current + 1) % data["sizes"][i])
        else:
            drag(page, control, to=1.0 if int(control.input_value()) == 0 else 0.0)
        after = img.get_attribute("src")
        assert after != before, f"control {i} of a slider figure did not change the image"
        # The frame shown is the one the slider positions name (last control fastest).
        positions = [int(controls.nth(j).evaluate(
            "el => el.tagName === 'SELECT' ? el.selectedIndex : parseInt(el.value, 10)"))
            for j in range(controls.count())]
        index = 0
        for pos, size in zip(positions, data["sizes"], strict=True):
            index = index * size + pos
        assert after == data["frames"][index]
        if control.evaluate("el => el.tagName") == "SELECT":
            shown = control.evaluate("el => el.options[el.selectedIndex].text")
        else:
            shown = control.locator("xpath=..").locator("output").text_content()
        label = data["labels"][i][positions[i]]
        if f"/{EDITION}/" in page.url:  # the Chinese edition shows the label's translation, if any
            label = ZH_WIDGET_STRINGS.get(label, label)
        assert shown == label, "the control's visible value is stale"


def test_slider_figure_javascript_shows_every_frame(page):
    """On a page of its own, every combination of the controls shows its frame, the
    first one included (stored once, as the image's source), and the controls and
    values shown stay in step with it."""
    plt = pytest.importorskip("matplotlib.pyplot")
    from shared.widgets import SliderFigure

    def draw(n, colour):
        fig, ax = plt.subplots(figsize=(1.5, 1))
        ax.bar(range(n), range(1, n + 1), color=colour)
        ax.set_xlabel("i")
        ax.set_ylabel("value")
        return fig

    figure = SliderFigure(draw, {"n": [1, 2, 3], "colour": ["C0", "C1"]}, alt="Bars")
    page.set_content(f"<html><body>{figure.to_html()}</body></html>")
    root = page.locator(".tfs-slider-figure")
    img, slider, select = root.locator("img.tfs-frame"), root.locator("input"), root.locator("select")
    for params in reversed(figure.combinations):  # ends on the first frame
        slider.fill(str(figure.sliders["n"].index(params["n"])))
        slider.dispatch_event("input")
        select.select_option(index=figure.sliders["colour"].index(params["colour"]))
        assert img.get_attribute("src") == figure.frames[figure.frame_index(**params)], params
        assert root.locator("output").text_content() == f"{params['n']:g}"
    check_slider_figure(page, root)
    assert not page.problems.all(), "\n".join(page.problems.all())


def check_token_explorer(page, explorer) -> None:
    probs = explorer.locator(".tfs-prob")
    assert probs.count() >= 1 and explorer.locator(".tfs-bars").get_attribute("aria-label")
    # top_k to 1, back to off; temperature down to its minimum; top_p to its minimum.
    one = 1 / float(explorer.locator('input[data-tfs-param="top_k"]').get_attribute("max"))
    for name, to in [("top_k", one), ("top_k", 0.0), ("temperature", 0.0), ("top_p", 0.0)]:
        before = probs.all_text_contents()
        drag(page, explorer.locator(f'input[data-tfs-param="{name}"]'), to=to)
        after = probs.all_text_contents()
        assert after != before, f"moving {name} did not change the bars"
        total = sum(float(p) for p in after)
        assert total <= 1.0 + 1e-3, after


@pytest.mark.parametrize("page_name", [p for p in book_pages() if sum(widget_counts(p))]
                         or [pytest.param(None, marks=pytest.mark.skip("no slider figures"))])
def test_slider_figures_react_to_the_mouse(page, base_url, page_name):
    n_figures, n_explorers = widget_counts(page_name)
    page.goto(base_url + page_name, wait_until="load")
    figures = page.locator(".tfs-slider-figure")
    explorers = page.locator(".tfs-token-explorer")
    assert figures.count() == n_figures and explorers.count() == n_explorers
    for i in range(n_figures):
        check_slider_figure(page, figures.nth(i))
    for i in range(n_explorers):
        check_token_explorer(page, explorers.nth(i))
    assert not page.problems.all(), "\n".join(page.problems.all())


def test_explorer_javascript_matches_python(page):
    """The page's JavaScript computes the same distribution as next_token_probs."""
    torch = pytest.importorskip("torch")
    from shared.explorer import NextTokenExplorer
    from shared.generation import next_token_probs

    logits = torch.randn(40, generator=torch.Generator().manual_seed(0)) * 2
    logits[5] = logits[6]  # a tie
    explorer = NextTokenExplorer([f"t{i}" for i in range(40)], logits, alt="test")
    page.set_content(f"<html><body>{explorer.to_html()}</body></html>")
    logits = torch.tensor(json.loads(page.locator("script.tfs-data").text_content())["logits"])
    for temperature in [0.1, 0.5, 1.0, 1.7]:
        for top_k in [None, 1, 3, 39, 40]:
            for top_p in [None, 0.05, 0.3, 0.9, 1.0]:
                js = page.evaluate("([l, t, k, p]) => window.tfsNextTokenProbs(l, t, k, p)",
                                   [logits.tolist(), temperature, top_k, top_p])
                py = next_token_probs(logits.double(), temperature, top_k, top_p)
                assert torch.allclose(torch.tensor(js, dtype=torch.float64), py.double(), atol=1e-6), \
                    (temperature, top_k, top_p)


# -- b) every page --------------------------------------------------------------------------
def check_links(page, page_name: str) -> list[str]:
    """Internal links resolve to files, and their anchors exist. Returns problems."""
    problems = []
    hrefs = page.eval_on_selector_all('a[href], link[rel="next"], link[rel="prev"]',
                                      "els => els.map(a => a.href)")
    for href in sorted(set(hrefs)):
        url = urlparse(href)
        if url.scheme not in ("http", "https") or url.hostname != "127.0.0.1":
            continue
        path = unquote(url.path).lstrip("/")
        target = HTML_DIR / path
        if path == "" or path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link {href}: {target.relative_to(HTML_DIR)} does not exist")
            continue
        if url.fragment and target.suffix == ".html" and unquote(url.fragment) not in ids_in(target):
            problems.append(f"broken anchor {href}: no id {url.fragment!r} in {path}")
    return problems


def check_launch_links(page, page_name: str) -> list[str]:
    """Chapter pages: the Colab link and the .ipynb download link."""
    problems = []
    stem = Path(page_name).with_suffix("").as_posix()  # chapters/01_text_to_tokens
    owner_repo, branch, book_path = repository_settings()
    source = f"{book_path}/{stem}.ipynb".lstrip("/")
    expected = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{source}"
    colab = page.eval_on_selector_all(
        'a[href^="https://colab.research.google.com"]', "els => els.map(a => a.getAttribute('href'))")
    if colab != [expected]:
        problems.append(f"Colab link is {colab}, expected [{expected!r}]")
    downloads = page.eval_on_selector_all(
        "a.btn-download-source-button", "els => els.map(a => a.href)")
    wanted = HTML_DIR / "_sources" / f"{stem}.ipynb"
    if not wanted.is_file():
        problems.append(f"{wanted.relative_to(HTML_DIR)} is missing")
    if not downloads or any(HTML_DIR / unquote(urlparse(d).path).lstrip("/") != wanted
                            for d in downloads):
        problems.append(f"download link {downloads} does not point to _sources/{stem}.ipynb")
    return problems


# A tqdm progress bar as a stored output shows it: "causal: 100%|##########| 400/400 [00:23<00:00, 11.09it/s]".
PROGRESS_BAR = re.compile(r"(?P<pct>\d+)%\|[^|\n]*\| *(?P<n>\d+)/(?P<total>\d+) \[(?P<times>[^\]\n]*)\]")
OUTPUT_TEXTS = "() => Array.from(document.querySelectorAll('.cell_output')).map(el => el.innerText)"


def progress_bars_in_built_pages() -> int:
    """How many progress bars the built chapters' HTML contains (guards against a vacuous pass)."""
    return sum(len(PROGRESS_BAR.findall((HTML_DIR / p).read_text(encoding="utf-8")))
               for p in book_pages() if p.startswith("chapters/"))


def check_progress_bars(page) -> list[str]:
    """Every progress bar the page shows is where its loop ended: not at 0%, and with the
    time and rate it measured, not tqdm's "?" placeholders (every stored cell completed:
    scripts/check_notebooks.py refuses error outputs). A bar left as first displayed means
    the notebook was executed by something other than scripts/execute_notebooks.py."""
    problems = []
    lines = [line.strip() for text in page.evaluate(OUTPUT_TEXTS) for line in text.splitlines()]
    for line in lines:
        for bar in PROGRESS_BAR.finditer(line):
            if int(bar["total"]) > 0 and int(bar["n"]) == 0:
                problems.append(f"progress bar that never started: {line!r}")
            elif "?" in bar["times"]:
                problems.append(f"progress bar with tqdm's placeholders for time or rate: {line!r}")
    return problems


def test_the_book_has_progress_bars():
    """Guard against a vacuous pass of check_progress_bars: the chapters do show training bars."""
    assert progress_bars_in_built_pages() >= 1, "no progress bar found in the built chapters"


WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('.math')) return 'no maths';
  for (let i = 0; i < 100 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return 'MathJax did not load';
  await MathJax.startup.promise;
  return 'typeset';
}"""

VISIBLE_TEXT = """() => {
  const skip = 'PRE, CODE, SCRIPT, STYLE, TEXTAREA, MJX-CONTAINER, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (el && !el.closest(skip)) parts.push(walker.currentNode.textContent);
  }
  return parts.join(' ');
}"""

IMAGES = """async () => {
  const imgs = Array.from(document.images);
  await Promise.all(imgs.map(img => img.complete ? null : new Promise(r => {
    img.addEventListener('load', r); img.addEventListener('error', r); setTimeout(r, 5000);
  })));
  return imgs.filter(img => !(img.complete && img.naturalWidth > 0))
             .map(img => img.getAttribute('src').slice(0, 120));
}"""

# Every image in the article (figures, slider frames) describes itself to a screen reader.
# A notebook figure without alt text in its cell metadata gets its own file name as alt
# (docutils' default), which describes nothing: that counts as no alt text.
IMAGES_WITHOUT_ALT = """() => Array.from(document.querySelectorAll('article img, .bd-article img'))
  .filter(img => {
    const alt = (img.getAttribute('alt') || '').trim(), src = img.getAttribute('src') || '';
    return !alt || alt === src || /^\\S+\\.(png|jpe?g|gif|svg|webp)$/i.test(alt);
  })
  .map(img => (img.getAttribute('src') || '').slice(0, 120))"""


@pytest.mark.parametrize("page_name", book_pages() or ["index.html"])
def test_page(page, base_url, page_name):
    if is_redirect(page_name):  # index.html: only check where it points
        target = re.search(r'url=([^"\']+)', (HTML_DIR / page_name).read_text()).group(1)
        assert (HTML_DIR / page_name).parent.joinpath(target).is_file(), target
        return
    page.goto(base_url + page_name, wait_until="load")
    problems = []
    # Maths: typeset by the book's own MathJax, nothing left raw, no TeX errors.
    n_maths = page.locator(".math").count()
    status = page.evaluate(WAIT_FOR_MATHJAX)
    if n_maths:
        if status != "typeset":
            problems.append(f"{n_maths} maths elements but {status}")
        n_typeset = page.locator("mjx-container").count()
        if n_typeset < n_maths:
            problems.append(f"{n_maths} maths elements but {n_typeset} typeset by MathJax")
        for error in page.locator("mjx-merror").all():
            problems.append(f"MathJax error: {error.get_attribute('data-mjx-error') or error.text_content()}")
    text = page.evaluate(VISIBLE_TEXT)
    for tex in RAW_TEX:
        if tex in text:
            at = text.index(tex)
            problems.append(f"raw TeX {tex!r} in the visible text: ...{text[max(0, at - 40):at + 40]}...")
    problems += [f"image did not load: {src}" for src in page.evaluate(IMAGES)]
    problems += [f"image without alt text: {src}" for src in page.evaluate(IMAGES_WITHOUT_ALT)]
    problems += check_links(page, page_name)
    if page_name.startswith("chapters/"):
        problems += check_launch_links(page, page_name)
        problems += check_progress_bars(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / (page_name.replace("/", "__").removesuffix(".html") + ".png")),
                    full_page=True)
    problems += page.problems.all()
    assert not problems, f"{page_name}:\n  " + "\n  ".join(problems)



# -- c) the diagrams (book/_static/figures/*.svg, drawn by scripts/figures/) ----------
DIAGRAMS = sorted(p.name for p in (BOOK_ROOT / "book" / "_static" / "figures").glob("*.svg"))

# The image as the reader sees it: loaded, its size, and whether it fits the text column.
DIAGRAM_STATE = """img => {
  const column = img.closest('.bd-article, article, main') || document.body;
  const box = img.getBoundingClientRect(), col = column.getBoundingClientRect();
  return {complete: img.complete, naturalWidth: img.naturalWidth, width: box.width,
          fits: box.left >= col.left - 1 && box.right <= col.right + 1,
          alt: (img.getAttribute('alt') || '').trim()};
}"""


@pytest.mark.parametrize("name", DIAGRAMS or [pytest.param(None, marks=pytest.mark.skip("no diagrams"))])
def test_diagram_is_shown_and_readable_in_light_and_dark_mode(page, base_url, name):
    """Each diagram is on a page of the book, loads, fits the column, has alt text, and sits
    on a light panel in both colour modes (dark text on a dark page would vanish)."""
    from io import BytesIO

    pytest.importorskip("PIL", reason="Pillow (a Matplotlib dependency) is not installed")
    from PIL import Image, ImageStat
    pages = [p for p in book_pages()
             if f'_images/{name}"' in (HTML_DIR / p).read_text(encoding="utf-8")]
    assert pages, (f"{name} is on no page of the book: embed it from its chapter "
                   f"(![alt text](../book/_static/figures/{name}) in a Markdown cell)")
    for page_name in pages:
        page.goto(base_url + page_name, wait_until="load")
        img = page.locator(f'img[src$="_images/{name}"]').first
        img.scroll_into_view_if_needed()
        for theme in ("light", "dark"):
            page.evaluate("t => { document.documentElement.dataset.theme = t; }", theme)
            page.wait_for_timeout(100)
            state = img.evaluate(DIAGRAM_STATE)
            where = f"{name} on {page_name} ({theme} mode)"
            assert state["complete"] and state["naturalWidth"] > 0, f"{where} did not load"
            assert state["fits"] and state["width"] >= 300, f"{where}: {state['width']:.0f} px wide, or overflows"
            assert len(state["alt"]) >= 40 and not state["alt"].endswith(".svg"), f"{where}: no real alt text"
            brightness = ImageStat.Stat(Image.open(BytesIO(img.screenshot())).convert("L")).mean[0]
            assert brightness > 150, f"{where}: mean brightness {brightness:.0f} of 255, not a light panel"
    # Outside the book's theme (Jupyter, GitHub in dark mode) the SVG's own panel does the job.
    page.set_content(f'<body style="background:#111;margin:0"><img src="{base_url}_images/{name}"></body>')
    img = page.locator("img")
    assert img.evaluate("i => i.decode().then(() => i.naturalWidth)") > 0
    brightness = ImageStat.Stat(Image.open(BytesIO(img.screenshot())).convert("L")).mean[0]
    assert brightness > 150, f"{name} on a dark page: mean brightness {brightness:.0f}, it needs its light panel"
    assert not page.problems.all(), "\n".join(page.problems.all())


# -- d) exercise solutions: hidden, input and output, until the reader opens them ------------
CHAPTER_PAGES = [p for p in book_pages() if p.startswith("chapters/")]


@pytest.mark.parametrize("page_name", CHAPTER_PAGES or [pytest.param(None, marks=pytest.mark.skip("no chapters"))])
def test_exercise_solutions_are_hidden_until_opened(page, base_url, page_name):
    """A solution cell (tag hide-cell) shows neither its code nor its printed answer until clicked."""
    page.goto(base_url + page_name)
    exercises = page.locator("section#exercises")
    assert exercises.count() == 1, f"{page_name}: no Exercises section"
    toggles = exercises.locator("details.hide")
    outputs = exercises.locator("details.hide .cell_output, details.hide .cell_input")
    assert toggles.count() >= 1 and outputs.count() >= 1, f"{page_name}: no hidden solution cells"
    visible = [i for i in range(outputs.count()) if outputs.nth(i).is_visible()]
    assert not visible, f"{page_name}: {len(visible)} solution inputs/outputs visible before any click"
    toggles.first.locator("summary").first.click()
    opened = toggles.first.locator(".cell_output, .cell_input")
    assert any(opened.nth(i).is_visible() for i in range(opened.count())), f"{page_name}: the toggle did not open"


# -- e) the two editions: language links, Chinese strings, Chinese search -----------------
ENGLISH_PAGES = [p for p in book_pages() if not p.startswith(EDITION + "/") and not is_redirect(p)]
CHINESE_PAGES = [p for p in book_pages() if p.startswith(EDITION + "/") and not is_redirect(p)]


def test_both_editions_have_the_same_pages():
    assert CHINESE_PAGES, f"no Chinese edition in {HTML_DIR / EDITION}"
    assert sorted(p.removeprefix(EDITION + "/") for p in CHINESE_PAGES) == sorted(ENGLISH_PAGES)


LANGUAGE_LINK = "() => { const a = document.querySelector('p.tfs-language-link a'); return a && a.href; }"


@pytest.mark.parametrize("page_name", ENGLISH_PAGES or [pytest.param(None, marks=pytest.mark.skip("no pages"))])
def test_language_links_go_to_the_same_page_and_back(page, base_url, page_name):
    page.goto(base_url + page_name, wait_until="load")
    there = page.evaluate(LANGUAGE_LINK)
    assert there == base_url + EDITION + "/" + page_name, there
    page.goto(there, wait_until="load")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    back = page.evaluate(LANGUAGE_LINK)
    assert back == base_url + page_name, back
    assert not page.problems.all(), "\n".join(page.problems.all())


def test_chinese_pages_are_in_chinese(page, base_url):
    """Prose, theme strings and the sliders' captions of a Chinese page are Chinese."""
    page.goto(base_url + EDITION + "/chapters/08_generation.html", wait_until="load")
    title = page.locator("article h1").first.inner_text()
    assert re.search(r"[\u4e00-\u9fff]", title), title
    search = page.locator("input[name=q]").first.get_attribute("placeholder")
    assert search == "搜索本书……", search
    toggle = page.locator("button.primary-toggle").first.get_attribute("title")
    assert toggle in ("显示或隐藏目录栏", None) or re.search(r"[\u4e00-\u9fff]", toggle), toggle
    captions = page.locator(".tfs-slider-figure figcaption").all_inner_texts()
    assert captions and all(re.search(r"[\u4e00-\u9fff]", c) for c in captions), captions
    summaries = page.locator("article details summary").all_inner_texts()
    assert "Answer" not in [s.strip() for s in summaries], summaries
    assert not page.problems.all(), "\n".join(page.problems.all())


SEARCH_RESULTS = """async () => {
  for (let i = 0; i < 100; i++) {
    const items = document.querySelectorAll('#search-results li a, ul.search li a');
    if (items.length) return Array.from(items).map(a => a.getAttribute('href'));
    await new Promise(r => setTimeout(r, 100));
  }
  return [];
}"""


@pytest.mark.parametrize("query, chapter", [("注意力", "04_attention_scores"),
                                            ("因果掩码", "05_causal_mask")])
def test_chinese_search_finds_the_chapter(page, base_url, query, chapter):
    page.goto(base_url + EDITION + "/search.html?q=" + query, wait_until="load")
    found = page.evaluate(SEARCH_RESULTS)
    assert any(chapter in href for href in found), (query, found)
    assert not page.problems.all(), "\n".join(page.problems.all())
