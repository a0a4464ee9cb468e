"""The book's conceptual diagrams, drawn as SVG text (`make figures`).

    python -m scripts.figures [OUT_DIR] [--no-check]

OUT_DIR defaults to book/_static/figures/, where the committed copies live (the book
builds without running this package). Every diagram is drawn twice: in English as
``NAME.svg`` and in Chinese as ``zh_CN/NAME.svg``, which the Chinese edition shows in its
place (Sphinx's ``figure_language_filename``). tests/test_figures.py regenerates every
diagram into a scratch folder and checks that the committed files are byte-for-byte the
same, so a diagram cannot drift from its code: after changing one, run `make figures` and
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
* uses fonts found everywhere (DejaVu Sans, else Verdana, Arial or any sans-serif; in
  Chinese, Noto Sans CJK SC, else Source Han Sans, PingFang, Microsoft YaHei, WenQuanYi).

The words of a diagram are kept once per language. A diagram function takes ``language``
(``"en"`` or ``"zh_CN"``) and passes every human-language string through
``_ = translator(language)`` (:mod:`.strings`): the English text, written in the diagram's
module, is the key of the table ``ZH_CN`` in ``strings.py``, the one place for the Chinese
strings, in the book's vocabulary (``locale/zh_CN/terms.tsv``). Numbers are filled in by
``str.format`` fields (``_("position {i}", i=i)``); a ``\n`` separates the lines of a block,
so a translation may wrap differently. Code names, shapes and token strings are not
looked up. A string missing from the table stops the Chinese drawing (KeyError); an entry
no diagram uses fails a test. After changing an English string, change its key too.

Before writing, each diagram checks its own layout (:mod:`.checks`): no two labels
overlap, no label touches a residual ⊕ or crosses a drawn line, every label stays on the
panel, and coloured text keeps a contrast of at least 4.5 (WCAG AA) against it. The
Chinese drawings are checked the same way, each CJK character measured 1 em wide.

The modules, each imported only by those after it (no import circles):

* :mod:`.palette`  colours and fonts;
* :mod:`.strings`  the languages, ``translator`` and the Chinese string table;
* :mod:`.checks`   measuring text and checking a layout (``LayoutError``);
* :mod:`.svg`      the canvas (``Svg``) and small drawing helpers shared by diagrams;
* one module per diagram, each with a function of the same name that returns its ``Svg``
  in a language;
* :mod:`.build`    the list of diagrams, and writing them in every language (``main``);
  ``__main__`` runs it.
"""
