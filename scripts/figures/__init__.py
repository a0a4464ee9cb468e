"""The book's conceptual diagrams, drawn as SVG text (`make figures`).

    python -m scripts.figures [OUT_DIR] [--no-check]

OUT_DIR defaults to book/_static/figures/, where the committed copies live (the book
builds without running this package). tests/test_figures.py regenerates every diagram
into a scratch folder and checks that the committed files are byte-for-byte the same,
so a diagram cannot drift from its code: after changing one, run `make figures` and
commit the SVGs.

The SVG is written as text, not through Matplotlib, so the output depends on nothing
but this package (and, for a few printed numbers, the ``shared`` code that computes
them). Every diagram

* sits on its own light, rounded panel, so it reads the same on the book's light and
  dark pages, in Jupyter and on GitHub;
* uses the Okabe-Ito colours (``shared.plotting.OKABE_ITO``), safe for the common
  colour-vision deficiencies, and never relies on colour alone (every part is labelled);
* names things as the book does: ``B, T, C``, ``d_model``, ``n_heads``, ``d_head``,
  ``context_length``, ``vocab_size`` and the attribute names of ``shared.model``;
* uses fonts found everywhere (DejaVu Sans, else Verdana, Arial or any sans-serif).

Before writing, each diagram checks its own layout (:mod:`.checks`): no two labels
overlap, no label touches a residual ⊕ or crosses a drawn line, every label stays on the
panel, and coloured text keeps a contrast of at least 4.5 (WCAG AA) against it.

The modules, each imported only by those after it (no import circles):

* :mod:`.palette`  colours and fonts;
* :mod:`.checks`   measuring text and checking a layout (``LayoutError``);
* :mod:`.svg`      the canvas (``Svg``) and small drawing helpers shared by diagrams;
* one module per diagram, each with a function of the same name that returns its ``Svg``;
* :mod:`.build`    the list of diagrams, and writing them (``main``); ``__main__`` runs it.
"""
