"""The residual stream through one block, post-norm against pre-norm (Chapter 6)."""

from __future__ import annotations

from scripts.figures.palette import BLUE, GREEN, LINE, MUTED, PANEL_EDGE, PURPLE, VERMILLION, VERMILLION_TEXT
from scripts.figures.strings import translator
from scripts.figures.svg import Svg, shape


def residual_pre_post_norm(language: str = "en") -> Svg:
    """Two blocks side by side: post-norm on the left, pre-norm (the book's) on the right."""
    _ = translator(language)
    s = Svg(800, 600, _("The residual stream: post-norm against pre-norm"),
            _("Two Transformer blocks side by side, input at the top. Post-norm, the original "
              "Transformer: each sublayer's output is added to x and the sum then goes through a "
              "layer norm, so the residual path passes through two layer norms per block. Pre-norm, "
              "GPT-2 and this book: each sublayer reads a layer-normalised copy of x and adds its "
              "output back, so the residual stream is a plain sum from the embeddings to the final "
              "layer norm."), language)
    stream = VERMILLION

    def panel(x0: float, pre: bool) -> None:
        cx = x0 + 110  # the residual stream
        bx = cx + 70  # sublayer boxes
        bw = 150
        title = _("pre-norm (GPT-2, this book)") if pre else _("post-norm (original Transformer)")
        s.text(x0 + 175, 40, title, size=15, bold=True)
        s.text(cx, 76, "x", size=14, bold=True, mono=True)
        shape(s, cx + 12, 76, "(B, T, C)")
        y = 86
        s.polyline([(cx, y), (cx, 104)], colour=stream, width=4)
        sublayers = [(_("multi-head"), _("attention"), BLUE, "ln1"), (_("feed-forward"), _("network"), GREEN, "ln2")]
        for i, (name1, name2, colour, ln) in enumerate(sublayers):
            top = 104 + i * 170
            # branch out, (ln), sublayer, back into the plus
            s.polyline([(cx, top + 14), (bx + bw / 2, top + 14)], colour=LINE)
            yb = top + 14
            if pre:
                s.arrow([(bx + bw / 2, yb), (bx + bw / 2, yb + 14)])
                s.box(bx, yb + 14, bw, 30, [(f"LayerNorm  {ln}", {"size": 12})], colour=PURPLE,
                      fill_amount=0.22)
                yb += 44
            s.arrow([(bx + bw / 2, yb), (bx + bw / 2, yb + 16)])
            s.box(bx, yb + 16, bw, 44, [(name1, {"bold": True, "size": 12.5}),
                                        (name2, {"bold": True, "size": 12.5})],
                  colour=colour, fill_amount=0.18)
            yp = yb + 80
            s.arrow([(bx + bw / 2, yb + 60), (bx + bw / 2, yp), (cx + 11, yp)])
            s.polyline([(cx, top), (cx, yp - 11)], colour=stream, width=4)
            s.plus(cx, yp, colour=stream)
            nxt = 104 + (i + 1) * 170
            if pre:
                s.polyline([(cx, yp + 11), (cx, nxt)], colour=stream, width=4)
            else:
                s.polyline([(cx, yp + 11), (cx, yp + 24)], colour=stream, width=4)
                s.box(cx - 62, yp + 24, 124, 30, [(f"LayerNorm  {ln}", {"size": 12})],
                      colour=PURPLE, fill_amount=0.22)
                s.polyline([(cx, yp + 54), (cx, nxt)], colour=stream, width=4)
        end = 104 + 2 * 170
        if pre:
            s.arrow([(cx, end), (cx, end + 20)], colour=stream, width=4, head=11)
            s.text(cx + 14, end + 8, _("next block, then"), size=11.5, anchor="start", fill=MUTED)
            s.text(cx + 14, end + 22, _("final LayerNorm ln_f"), size=11.5, anchor="start", fill=MUTED)
            s.text(cx - 16, 150, _("residual stream"), size=12, bold=True, fill=VERMILLION_TEXT, rotate=-90)
        else:
            s.arrow([(cx, end), (cx, end + 20)], colour=stream, width=4, head=11)
            s.text(cx + 14, end + 12, _("next block"), size=11.5, anchor="start", fill=MUTED)
            s.text(cx - 16, 150, _("residual path"), size=12, bold=True, fill=VERMILLION_TEXT, rotate=-90)
        if pre:
            formulas = ["x = x + attn(ln1(x))", "x = x + ffn(ln2(x))"]
            notes = _("The stream is only ever added to: a plain sum\n"
                      "from the embeddings to ln_f, so the gradient\n"
                      "reaches the first layer directly.").split("\n")
        else:
            formulas = ["x = ln1(x + attn(x))", "x = ln2(x + ffn(x))"]
            notes = _("Every sum is normalised: the residual path\n"
                      "passes through two layer norms per block;\n"
                      "deep stacks need a careful learning-rate warm-up.").split("\n")
        s.lines(x0 + 24, 506, formulas, size=12.5, mono=True, anchor="start", leading=18)
        s.lines(x0 + 24, 552, notes, size=11.5, anchor="start", leading=15, fill=MUTED)

    panel(10, pre=False)
    panel(405, pre=True)
    s.polyline([(400, 24), (400, 576)], colour=PANEL_EDGE, width=1.2)
    return s
