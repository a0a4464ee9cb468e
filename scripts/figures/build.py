"""The list of the book's diagrams, and writing them as SVG files (``python -m scripts.figures``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.figures.byte_pair_merges import byte_pair_merges
from scripts.figures.causal_mask import causal_mask
from scripts.figures.data_parallel import data_parallel
from scripts.figures.embedding_lookup import embedding_lookup
from scripts.figures.gpt2_weight_map import gpt2_weight_map
from scripts.figures.gpt_data_flow import gpt_data_flow
from scripts.figures.kv_cache import kv_cache
from scripts.figures.multi_head_split import multi_head_split
from scripts.figures.queries_keys_values import queries_keys_values
from scripts.figures.residual_pre_post_norm import residual_pre_post_norm
from scripts.figures.sampling_pipeline import sampling_pipeline
from scripts.figures.strings import LANGUAGES
from scripts.figures.svg import Svg
from scripts.figures.token_plus_position import token_plus_position
from scripts.figures.unk_vocabulary import unk_vocabulary

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "book" / "_static" / "figures"

#: File name (without ``.svg``) -> the function that draws it in a language, in the book's order of chapters.
FIGURES: dict[str, Callable[[str], Svg]] = {
    "gpt_data_flow": gpt_data_flow,
    "queries_keys_values": queries_keys_values,
    "causal_mask": causal_mask,
    "residual_pre_post_norm": residual_pre_post_norm,
    "kv_cache": kv_cache,
    "byte_pair_merges": byte_pair_merges,
    "data_parallel": data_parallel,
    "multi_head_split": multi_head_split,
    "unk_vocabulary": unk_vocabulary,
    "sampling_pipeline": sampling_pipeline,
    "gpt2_weight_map": gpt2_weight_map,
    "embedding_lookup": embedding_lookup,
    "token_plus_position": token_plus_position,
}


def path_of(name: str, language: str) -> str:
    """Where a diagram goes, relative to OUT_DIR: ``NAME.svg`` in English, else ``LANGUAGE/NAME.svg``
    (Sphinx's ``figure_language_filename``, so the Chinese book shows the Chinese drawing)."""
    return f"{name}.svg" if language == "en" else f"{language}/{name}.svg"


def render_all(check: bool = True) -> dict[str, str]:
    """Every diagram's SVG text in every language, by path (:func:`path_of`). Raises LayoutError
    on a bad layout."""
    out = {}
    for language in LANGUAGES:
        for name, draw in FIGURES.items():
            svg = draw(language)
            if check:
                svg.check_layout()
            out[path_of(name, language)] = svg.render(name)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Write every diagram into OUT_DIR (the command line of ``python -m scripts.figures``)."""
    parser = argparse.ArgumentParser(prog="python -m scripts.figures",
                                     description="Draw the book's conceptual diagrams as SVG files.")
    parser.add_argument("out_dir", nargs="?", type=Path, default=OUT_DIR,
                        help="where to write the SVG files (default: book/_static/figures; "
                             "the Chinese ones in its zh_CN/)")
    parser.add_argument("--no-check", action="store_true",
                        help="write even if labels overlap (to look at a layout being changed)")
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for file, text in render_all(check=not args.no_check).items():
        (args.out_dir / file).parent.mkdir(exist_ok=True)
        (args.out_dir / file).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.out_dir / file}")
    return 0
