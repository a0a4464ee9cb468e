"""The Chinese edition stays complete and current (scripts/check_translations.py).

* every catalogue of locale/zh_CN matches a fresh extraction of the English, with every
  entry translated, none fuzzy, each one paragraph, markup kept, no avoided term;
* the checker itself rejects what it must (a list instead of a paragraph, a lost link,
  a lost glue reference, an avoided term, a fuzzy entry);
* the string table of the widgets (locale/zh_CN/widgets.tsv) has exactly the captions,
  alt texts and menu options that the chapters' stored slider and explorer outputs show;
* terms.tsv is well-formed: one row per English term, a Chinese form for each.
"""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest

from scripts import check_translations as ct

ROOT = Path(__file__).resolve().parent.parent
ZH = ROOT / "locale" / "zh_CN"


def test_every_catalogue_is_complete_and_current():
    assert ct.main([]) == 0, "run `python -m scripts.check_translations` for the list"


PO = """msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

{flag}msgid "{english}"
msgstr "{chinese}"
"""


@pytest.mark.parametrize("english, chinese, flag, problem", [
    ("5. The causal mask", "5. 因果掩码", "", "not one Markdown paragraph"),
    ("A [token](../book/glossary.md#term-token) is", "一个词元是", "", "links differ"),
    ("There are {glue:text}`n_pairs` pairs", "共有若干对", "", "roles differ"),
    ("The mask uses $-\\\\infty$", "掩码使用负无穷", "", "maths differ"),
    ("Call `torch.tril`", "调用 tril", "", "code differ"),
    ("A token", "一个令牌", "", "uses '令牌'"),
    ("A token", "一个词元", "#, fuzzy\n", "fuzzy"),
    ("A token", "", "", "untranslated"),
])
def test_the_checker_rejects(tmp_path, english, chinese, flag, problem):
    po = tmp_path / "page.po"
    po.write_text(PO.format(english=english, chinese=chinese, flag=flag), encoding="utf-8")
    problems = ct.check_catalogue(po, ct.avoided_terms())
    assert any(problem in p for p in problems), problems


def test_the_checker_accepts_a_faithful_translation(tmp_path):
    english = ("The [causal mask](../book/glossary.md#term-causal-mask) sets {glue:text}`n` "
               "scores of `scores` to $-\\\\infty$ {cite}`vaswani2017attention`; see {term}`softmax`.")
    chinese = ("[因果掩码](../book/glossary.md#term-causal-mask) 把 `scores` 中的 {glue:text}`n` "
               "个分数设为 $-\\\\infty$ {cite}`vaswani2017attention`；参见 {term}`softmax <softmax>`。")
    po = tmp_path / "page.po"
    po.write_text(PO.format(english=english, chinese=chinese, flag=""), encoding="utf-8")
    assert ct.check_catalogue(po, ct.avoided_terms()) == []
    glued = tmp_path / "glued.po"  # a glued sentence is referred to by its Chinese twin
    glued.write_text(PO.format(english="{glue:text}`verdict` So it goes.",
                               chinese="{glue:text}`verdict_zh` 就是这样。", flag=""), encoding="utf-8")
    assert ct.check_catalogue(glued, ct.avoided_terms()) == []
    title = tmp_path / "title.po"
    title.write_text(PO.format(english="5. The causal mask", chinese="5\\\\. 因果掩码", flag=""),
                     encoding="utf-8")
    assert ct.check_catalogue(title, ct.avoided_terms()) == []


def widget_strings() -> set[str]:
    """Captions and alt texts of the stored slider figures and next-token explorers."""
    found = set()
    for notebook in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("data", {}).get("text/html", ""))
                if 'class="tfs-widget' not in text:
                    continue
                text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
                found |= {html.unescape(c) for c in re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", text)}
                found |= {html.unescape(c) for c in re.findall(r'<div style="font-size:0.9em">([^<]+)</div>', text)}
                found |= {html.unescape(a) for a in re.findall(r'\b(?:alt|aria-label)="([^"]{20,})"', text)}
                found |= {html.unescape(o) for o in re.findall(r"<option[^>]*>([^<]+)</option>", text)}
                if "tfs-token-explorer" in text:
                    found.add("off")
    return found


def test_the_widget_string_table_matches_the_stored_outputs():
    from book._ext.editions import read_table

    table = {html.unescape(k): v for k, v in read_table(ZH / "widgets.tsv").items()}
    strings = widget_strings()
    assert strings, "no widget captions found in the chapters' outputs"
    assert sorted(strings - set(table)) == [], "captions with no translation in widgets.tsv"
    assert sorted(set(table) - strings) == [], "widgets.tsv rows that no output shows any more"
    assert all(re.search(r"[\u4e00-\u9fff]", v) for v in table.values())


def test_terms_table_is_well_formed():
    with (ZH / "terms.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    english = [r["english"] for r in rows]
    assert len(english) == len(set(english)) > 40
    assert all(r["chinese"].strip() for r in rows)
    token = next(r for r in rows if r["english"] == "token")
    assert token["chinese"] == "词元" and "令牌" in token["avoid"]


def test_a_changed_english_sentence_makes_its_catalogue_stale(tmp_path, monkeypatch):
    pots, messages = tmp_path / "pot", tmp_path / "LC_MESSAGES"
    (pots / "book").mkdir(parents=True)
    (messages / "book").mkdir(parents=True)
    (pots / "book" / "intro.pot").write_text(PO.format(english="A new sentence.", chinese="", flag=""),
                                            encoding="utf-8")
    (messages / "book" / "intro.po").write_text(
        PO.format(english="An old sentence.", chinese="一个旧句子。", flag=""), encoding="utf-8")
    (messages / "book" / "gone.po").write_text(PO.format(english="x", chinese="x", flag=""), encoding="utf-8")
    monkeypatch.setattr(ct, "MESSAGES", messages)
    monkeypatch.setattr(ct, "ROOT", tmp_path)
    problems = ct.stale(pots)
    assert any("new message" in p and "A new sentence." in p for p in problems), problems
    assert any("no longer says" in p and "An old sentence." in p for p in problems), problems
    assert any("gone.po: no such page" in p for p in problems), problems
