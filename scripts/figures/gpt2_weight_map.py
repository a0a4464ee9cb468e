"""GPT-2's tensor names mapped onto the book's modules (Chapter 9), with the Conv1D transposes.

Every row comes from ``shared.pretrained.gpt2_name_map`` (which tensor goes where, and whether
it is transposed) and every shape from a GPT-2-shaped ``shared.model.GPT`` built on the meta
device (no memory, no weights)."""

from __future__ import annotations

from scripts.figures.palette import (
    BLUE,
    BLUE_TEXT,
    GREEN,
    GREY_EDGE,
    INK,
    MUTED,
    ORANGE,
    SHAPE_TEXT,
    VERMILLION,
    VERMILLION_TEXT,
    tint,
)
from scripts.figures.strings import translator
from scripts.figures.svg import Svg


def weight_rows() -> tuple[list[tuple[str, str, bool, tuple, tuple]], int, int]:
    """``(GPT-2 name, our name, transposed?, shape in the file, our shape)`` for the weights of
    the embeddings, block N and the final norm (biases follow their weights), GPT-2's ``d_model``
    and its number of blocks."""
    import torch

    from shared.model import GPT, GPTConfig
    from shared.pretrained import gpt2_name_map

    cfg = GPTConfig.gpt2()
    with torch.device("meta"):
        params = dict(GPT(cfg).named_parameters())
    mapping = gpt2_name_map(1)
    order = [k for k in mapping if not k.startswith(("blocks.", "ln_f."))]
    order += [k for k in mapping if k.startswith("blocks.")] + [k for k in mapping if k.startswith("ln_f.")]
    rows = []
    for ours in order:
        if not ours.endswith(".weight"):
            continue
        theirs, transpose = mapping[ours]
        shape = tuple(params[ours].shape)
        rows.append((theirs.replace("h.0.", "h.N."), ours.replace("blocks.0.", "blocks.N."), transpose,
                     shape[::-1] if transpose else shape, shape))
    return rows, cfg.d_model, cfg.n_layers


def fmt(shape: tuple) -> str:
    """A shape as PyTorch prints it, without ``torch.Size``."""
    return f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(str(d) for d in shape) + ")"


def gpt2_weight_map(language: str = "en") -> Svg:
    """A table from the checkpoint's names to ours, then the tied head, the skipped buffers and qkv."""
    _ = translator(language)
    rows, C, n_layers = weight_rows()
    conv = sum(t for *_, t, _, _ in rows)
    s = Svg(800, 580, _("GPT-2's tensor names mapped onto the book's model"), _(
            "A table from each weight of OpenAI's GPT-2 checkpoint to the parameter of shared.model.GPT it "
            "fills, with both shapes. The {conv} Conv1D matrices (attn.c_attn, attn.c_proj, mlp.c_fc, "
            "mlp.c_proj) are stored as (in, out) and transposed to nn.Linear's (out, in); the rest are "
            "copied as they are. Each bias goes with its weight. wte fills the token embedding and, tied, "
            "the output head; lm_head.weight, found only in some exports, must equal it. The causal-mask "
            "buffers h.N.attn.bias and masked_bias are skipped. The fused qkv weight is split into queries, "
            "keys and values in the forward pass.", conv=conv), language)
    s.text(24, 36, _("GPT-2's checkpoint in the book's model: names, shapes, transposes"), size=16, bold=True,
           anchor="start")
    s.lines(24, 58, _("shared.pretrained.gpt2_name_map and load_gpt2_weights; GPT-2 small, d_model = {C}\n"
                      "h.N: one row per block shown, N = 0 … {last}; every .bias follows its .weight, "
                      "never transposed", C=C, last=n_layers - 1).split("\n"),
            size=11.5, anchor="start", fill=MUTED, leading=16)
    xs = {"theirs": 28, "tshape": 300, "ours": 388, "oshape": 680, "note": 690}
    hy = 104
    s.text(xs["theirs"], hy, _("GPT-2 checkpoint"), size=12, bold=True, anchor="start")
    s.text(xs["tshape"], hy, _("stored"), size=12, bold=True, anchor="end")
    s.text(xs["ours"], hy, "shared.model.GPT", size=12, bold=True, anchor="start")
    s.text(xs["oshape"], hy, _("ours"), size=12, bold=True, anchor="end")
    s.polyline([(24, hy + 8), (776, hy + 8)], colour=GREY_EDGE, width=1)
    rh = 27
    for i, (theirs, ours, transpose, tshape, oshape) in enumerate(rows):
        y = hy + 28 + i * rh
        if transpose:
            s.rect(20, y - 17, 760, rh - 2, fill=tint(ORANGE, 0.14), rx=5)
        s.text(xs["theirs"], y, theirs, size=11.5, mono=True, anchor="start")
        s.text(xs["tshape"], y, fmt(tshape), size=11.5, mono=True, anchor="end", fill=SHAPE_TEXT)
        colour = VERMILLION if transpose else GREY_EDGE
        s.arrow([(xs["tshape"] + 10, y - 4), (xs["ours"] - 10, y - 4)], colour=colour, width=1.6, head=7)
        if transpose:
            s.text((xs["tshape"] + xs["ours"]) / 2 - 3, y - 9, ".t()", size=10, mono=True, fill=VERMILLION_TEXT)
        s.text(xs["ours"], y, ours, size=11.5, mono=True, anchor="start")
        s.text(xs["oshape"], y, fmt(oshape), size=11.5, mono=True, anchor="end", fill=SHAPE_TEXT)
        if transpose:
            s.text(xs["note"], y, "Conv1D", size=11, anchor="start", fill=VERMILLION_TEXT)
        elif ours == "tok_emb.weight":
            s.text(xs["note"], y, "= head.weight", size=11, mono=True, anchor="start", fill=BLUE_TEXT)
    y = hy + 28 + len(rows) * rh + 8
    s.rect(20, y - 6, 760, 98, fill=tint(BLUE, 0.07), stroke=GREY_EDGE, width=1, rx=8)
    s.lines(32, y + 14, _(
        "Conv1D (GPT-2's TensorFlow origin) computes x @ W + b with W stored (in, out); nn.Linear computes\n"
        "x @ W.T + b and stores (out, in): the {conv} matrices marked .t() are transposed as they are copied.\n"
        "lm_head.weight, in some exports only: must equal wte.weight; the book's head.weight is tok_emb.weight.\n"
        "h.N.attn.bias, h.N.attn.masked_bias: causal-mask buffers, not weights: skipped.", conv=conv).split("\n"),
        size=11.5, anchor="start", leading=21, fill=INK)
    # the fused qkv, split in the forward pass
    y += 112
    s.text(28, y + 4, _("blocks.N.attn.qkv: one (3·C, C) matrix, split in forward"), size=12.5, bold=True,
           anchor="start")
    bx, bw = 28, 420
    for j, (letter, colour) in enumerate([("q", BLUE), ("k", ORANGE), ("v", GREEN)]):
        s.rect(bx + j * bw / 3, y + 16, bw / 3, 26, fill=tint(colour, 0.35), stroke=colour, width=1.3)
        s.text(bx + (j + 0.5) * bw / 3, y + 34,
               _("{letter}: rows {first}–{last}", letter=letter, first=j * C, last=(j + 1) * C - 1),
               size=11.5, mono=True)
    s.lines(bx + bw + 16, y + 26, ["q, k, v = self.qkv(x).split(C, dim=2)",
                                   _("then each .view(B, T, n_heads, d_head)")],
            size=11, mono=True, anchor="start", leading=16, fill=MUTED)
    return s
