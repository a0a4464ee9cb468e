"""Sphinx extension: glue references inside translated paragraphs (the Chinese edition).

A translated paragraph is parsed on its own, into a new document, by Sphinx's i18n
transform. myst-nb's glue roles look the glued values up through the *notebook's*
document (``document["nb_renderer"]``), which that new document lacks, so every
``{glue:text}`` of a translation failed with "No key ... found in glue data".

This extension remembers, per page, the renderer of the notebook being read (the
English glue references of the same page register it first: a translated message
always comes from an English one that the page parsed) and lends it to the
translated paragraphs of that page. A key that the notebook did not glue is still
reported, as in the English book.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes

_renderers: dict[str, Any] = {}


class _WithRenderer(dict):
    """Stands in for the translated paragraph's document where only the renderer is read."""


def _patch() -> None:
    from myst_nb.ext.glue import directives, roles, utils

    original = utils.retrieve_glue_data
    if getattr(original, "_i18n_glue", False):
        return

    def retrieve_glue_data(document: nodes.document, key: str):
        env = getattr(document.settings, "env", None)
        docname = getattr(env, "docname", None)
        if "nb_renderer" in document:
            if docname:
                _renderers[docname] = document["nb_renderer"]
        elif docname in _renderers:
            return original(_WithRenderer(nb_renderer=_renderers[docname]), key)
        return original(document, key)

    retrieve_glue_data._i18n_glue = True  # type: ignore[attr-defined]
    for module in (utils, roles, directives):
        module.retrieve_glue_data = retrieve_glue_data


def setup(app):
    _patch()
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
