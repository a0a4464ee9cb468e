"""Sphinx extension: let Markdown links point at glossary terms.

MyST checks the ``#anchor`` of a link such as ``[token](../book/glossary.md#term-token)``
against the headings of the target page only, so a link to a glossary term would be
reported as missing (and fail the ``-W`` build) although Sphinx gives every term the
id ``term-<term>``. This extension registers those ids as anchors of their page as soon
as the page is read. Links to terms then resolve like links to headings, while a link
to an id that does not exist is still reported.
"""

from __future__ import annotations

from docutils import nodes


def _register_term_ids(app, doctree) -> None:
    metadata = app.env.metadata[app.env.docname]
    slugs = metadata.setdefault("myst_slugs", {})
    for term in doctree.findall(nodes.term):
        for node_id in term["ids"]:
            slugs.setdefault(node_id, (term.line or 0, node_id, term.astext()))


def setup(app):
    app.connect("doctree-read", _register_term_ids)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
