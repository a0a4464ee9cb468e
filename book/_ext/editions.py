"""Sphinx extension: the English and Chinese editions of the book, side by side.

The English book is built into ``_build/html/`` and the Chinese one into
``_build/html/zh/`` (scripts/build_book.py), from the same sources: the Chinese
build sets ``language: zh_CN`` and Sphinx takes every message from
``locale/zh_CN/LC_MESSAGES/<page>.po``. This extension adds what gettext alone does
not give:

* **Language links.** Every page starts with a link to the same page in the other
  edition (and says so to search engines with ``<link rel="alternate" hreflang>``).
* **The theme's own strings.** sphinx-book-theme's zh_CN catalogue is incomplete (and
  writes "Print to PDF" in traditional characters); ``locale/zh_CN/theme.tsv`` gives the
  missing and corrected strings. Those that the theme passes through gettext are merged
  in front of the theme's catalogue; those that its templates hard-code (tooltips, the
  search box, ARIA labels) are replaced in the page by a small script.
* **The parts' captions** of the table of contents, which sphinx-external-toc inserts
  after Sphinx has translated the page (:class:`TranslateTocCaptions`).
* **Strings inside the stored outputs.** The sliders' and the explorer's captions and alt
  texts are part of the English notebooks' outputs; ``locale/zh_CN/widgets.tsv`` maps
  each of them to Chinese, and the same script swaps them in when the page is Chinese
  (tests/test_translations.py checks that the table matches the outputs exactly).
"""

from __future__ import annotations

import csv
import gettext
import html
import io
import json
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sphinx import addnodes, locale
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = {"en": ("English", "en"), "zh_CN": ("中文", "zh-CN")}
CATALOGUES = ("booktheme", "sphinx")


def read_table(path: Path) -> dict[str, str]:
    """english -> chinese from a tab-separated table with those two columns."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["english"]: row["chinese"] for row in csv.DictReader(handle, delimiter="\t")}


def _language(app: Sphinx) -> str:
    return app.config.language or "en"


def _has_chinese_edition() -> bool:
    return (ROOT / "locale" / "zh_CN" / "LC_MESSAGES").is_dir()


def _merge_theme_strings(app: Sphinx) -> None:
    """Put theme.tsv's 'gettext' strings in front of the theme's own catalogues."""
    if _language(app) != "zh_CN":
        return
    table = ROOT / "locale" / "zh_CN" / "theme.tsv"
    with table.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["where"] == "gettext"]
    po = io.BytesIO(("msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\n\"\n\n" + "".join(
        f"msgid {json.dumps(r['english'], ensure_ascii=False)}\n"
        f"msgstr {json.dumps(r['chinese'], ensure_ascii=False)}\n\n" for r in rows)).encode())
    mo = io.BytesIO()
    write_mo(mo, read_po(po))
    for catalogue in CATALOGUES:
        mo.seek(0)
        ours = gettext.GNUTranslations(mo)
        theirs = locale.translators.get(("general", catalogue))
        if isinstance(theirs, gettext.GNUTranslations):
            # In place: the templates' gettext already holds this object.
            theirs._catalog.update(ours._catalog)  # type: ignore[attr-defined]
        else:
            locale.translators["general", catalogue] = ours


def _page_script(app: Sphinx) -> None:
    """On Chinese pages: a script that translates hard-coded theme strings and outputs."""
    if _language(app) != "zh_CN":
        return
    theme = ROOT / "locale" / "zh_CN" / "theme.tsv"
    with theme.open(encoding="utf-8", newline="") as handle:
        page = {r["english"]: r["chinese"] for r in csv.DictReader(handle, delimiter="\t")
                if r["where"] == "page"}
    widgets = {html.unescape(k): v for k, v in read_table(ROOT / "locale" / "zh_CN" / "widgets.tsv").items()}
    strings = json.dumps({"page": page, "outputs": widgets}, ensure_ascii=False)
    app.add_js_file(None, body=_SCRIPT.replace("STRINGS", strings), priority=900)


_SCRIPT = """(function () {
  var t = STRINGS;
  function swap(root) {
    root.querySelectorAll("[title],[aria-label],[placeholder],[data-bs-original-title],[alt]").forEach(function (el) {
      ["title", "aria-label", "placeholder", "data-bs-original-title", "alt"].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v === null) return;
        var table = el.closest(".tfs-widget") ? t.outputs : t.page;
        if (table[v] !== undefined) el.setAttribute(a, table[v]);
        else if (t.page[v.trim()] !== undefined) el.setAttribute(a, t.page[v.trim()]);
      });
    });
    root.querySelectorAll("body *").forEach(function (el) {
      if (el.children.length || el.closest("pre, code, script, style")) return;
      var inWidget = el.closest(".tfs-widget");
      if (!inWidget && el.closest(".cell_output")) return;
      var v = el.textContent, k = v.trim(), table = inWidget ? t.outputs : t.page;
      if (k && table[k] !== undefined) el.textContent = v.replace(k, table[k]);
    });
  }
  function run() {
    swap(document);
    // The sliders rewrite their <output> as they move: translate what they write.
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        var el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        if (el && el.closest && el.closest(".tfs-widget") && el.tagName === "OUTPUT") {
          var k = el.textContent.trim();
          if (t.outputs[k] !== undefined) el.textContent = t.outputs[k];
        }
      });
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
"""


class TranslateTocCaptions(SphinxTransform):
    """Translate the parts' captions (Getting started, ...) of the table of contents.

    sphinx-external-toc inserts the toctrees of _toc.yml (priority 100) after Sphinx has
    translated the page (priority 20), so their captions stayed English although the
    root page's catalogue translates them. This runs just after and looks them up there.
    """

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if (self.config.language or "en") == "en":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalogue, found = locale.init(dirs, self.config.language, domain)
        if not found:
            return
        for node in self.document.findall(addnodes.toctree):
            caption = node.get("caption")
            if caption:
                node["caption"] = node["rawcaption"] = catalogue.gettext(caption)


def _language_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Prepend to the page's body a link to the same page in the other edition."""
    if "body" not in context or not _has_chinese_edition():
        return
    language = _language(app)
    up = "../" * pagename.count("/")
    if language == "zh_CN":
        href, (label, code) = f"{up}../{pagename}.html", EDITIONS["en"]
    else:
        href, (label, code) = f"{up}zh/{pagename}.html", EDITIONS["zh_CN"]
    context["body"] = (
        f'<p class="tfs-language-link"><a href="{href}" hreflang="{code}" lang="{code}">'
        f"{label}</a></p>\n" + context["body"])
    context["metatags"] = context.get("metatags", "") + (
        f'\n<link rel="alternate" hreflang="{code}" href="{href}" />')


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _merge_theme_strings)
    app.connect("builder-inited", _page_script)
    app.connect("html-page-context", _language_link)
    app.add_transform(TranslateTocCaptions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
