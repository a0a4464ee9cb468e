"""A small Sphinx extension that keeps the built book self-contained and quiet.

Loaded through ``sphinx.local_extensions`` in ``_config.yml``. It fixes two things
the browser test (tests/test_browser.py) caught in the stock Jupyter Book 1 build:

* sphinx-thebe adds its inline configuration script (``const THEBE_JS_URL = ...``,
  a CDN address) once per build pass, so pages got it twice and the second copy
  threw "Identifier 'THEBE_JS_URL' has already been declared". The book has no
  live-code (thebe) button, so both scripts are dropped unless
  ``launch_buttons.thebe`` is switched on; then only the duplicate is dropped.
* pydata-sphinx-theme logs "Got invalid theme mode" on every page when no
  ``default_mode`` is set (html_context): we set ``auto`` (follow the reader's system setting).
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _is_thebe(asset: Any) -> bool:
    filename = getattr(asset, "filename", asset) or ""
    body = getattr(asset, "attributes", {}).get("body", "") if hasattr(asset, "attributes") else ""
    return str(filename).endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def _thebe_enabled(app: Sphinx) -> bool:
    options = app.config.html_theme_options or {}
    return bool((options.get("launch_buttons") or {}).get("thebe"))


def set_default_mode(app: Sphinx, config) -> None:
    # A template variable of pydata-sphinx-theme (not a theme option of sphinx-book-theme).
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    kept, seen = [], set()
    for asset in scripts:
        if _is_thebe(asset):
            key = (str(getattr(asset, "filename", asset)),
                   getattr(asset, "attributes", {}).get("body", ""))
            if not _thebe_enabled(app) or key in seen:
                continue
            seen.add(key)
        kept.append(asset)
    scripts[:] = kept


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", set_default_mode, priority=900)
    app.connect("html-page-context", drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
