"""Sphinx extension: the whole book as a PDF, offered in every page's download menu.

`make pdf` (scripts/build_pdf.py) prints each edition to a PDF and copies it to the top
of that edition's HTML folder (``_build/html/transformer-from-scratch.pdf``,
``_build/html/zh/transformer-from-scratch-zh.pdf``), so the published book serves it.
This extension adds a link to that file to the theme's download menu (beside ``.ipynb``,
``.md`` and the browser's "Print to PDF" of one page). The names are here, and
scripts/build_pdf.py imports them.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

PDF_FILES = {"en": "transformer-from-scratch.pdf", "zh_CN": "transformer-from-scratch-zh.pdf"}
LABELS = {"en": ("Book (PDF)", "Download the whole book as one PDF"),
          "zh_CN": ("全书 (PDF)", "下载全书的 PDF 文件")}


def _language(app: Sphinx) -> str:
    return app.config.language if app.config.language in PDF_FILES else "en"


def add_book_pdf(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Append the book's PDF to the download menu (after the theme has filled it in)."""
    language = _language(app)
    text, tooltip = LABELS[language]
    for button in context.get("header_buttons") or []:
        if button.get("label") == "download-buttons":
            button["buttons"].append({
                "type": "link",
                "url": context["pathto"](PDF_FILES[language], 1),
                "text": text,
                "icon": "fas fa-file-pdf",
                "tooltip": tooltip,
                "label": "download-book-pdf-button",
            })


def setup(app: Sphinx) -> dict[str, Any]:
    # sphinx-book-theme builds the menu at priority 501.
    app.connect("html-page-context", add_book_pdf, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
