"""Numbers from cells into the prose: ``glue("name", value)`` in a cell, ``{glue:text}`name``` in Markdown.

The book's build (myst-nb) replaces each ``{glue:text}`name``` with the value the chapter's
cell stored under that name, so the prose cannot drift from what the code computed, and
nbval checks the cell like any other. This writes the same output as myst-nb's own
``glue`` (a display of the value's text under the ``application/papermill.record/``
prefix, named in the output's metadata), so it needs no myst-nb: in Colab or plain
Jupyter it shows nothing unless ``display=True``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["glue"]

PREFIX = "application/papermill.record/"


def glue(name: str, value: Any, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the page's prose; also show it if ``display``."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python-identifier-like string (letters, digits, _), got {name!r}")
    from IPython.core.formatters import format_display_data
    from IPython.display import display as show

    bundle, metadata = format_display_data(value)
    prefix = "" if display else PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    show({prefix + key: text for key, text in bundle.items()}, raw=True, metadata=metadata)
