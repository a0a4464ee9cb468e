"""Check the Chinese edition's catalogues (`make lint`, tests/test_translations.py).

    python -m scripts.check_translations [--no-extract] [PO_FILE ...]

The Chinese book is the English book with every message translated through Sphinx's
gettext machinery: ``locale/zh_CN/LC_MESSAGES/<page>.po`` holds, for every paragraph,
title, list item, table cell and caption of ``<page>``, the English text (``msgid``)
and its translation (``msgstr``). The code cells and their outputs are the English
notebooks' own. This script refuses a catalogue that would give a stale, partial or
broken Chinese page:

* **stale**: the English was extracted afresh (``sphinx-build -b gettext``, about ten
  seconds) and a catalogue's messages differ from it: an English sentence changed and
  its translation did not (run ``make gettext``, translate what it marks, see
  CONTRIBUTING.md);
* **untranslated** or **fuzzy** entries;
* **not one paragraph**: Sphinx parses each translation on its own and silently keeps
  the English when the result is not a single paragraph; ``5. 因果掩码`` is an ordered
  list to Markdown and must be written ``5\\. 因果掩码``;
* **markup lost**: each translation keeps its English's links (targets), inline code,
  maths, citations, glue references and glossary targets, exactly (a glued *sentence*
  is glued in Chinese too, as ``<key>_zh``, and the translation uses that key);
* **avoided terms**: a form that ``locale/zh_CN/terms.tsv`` marks as avoided (for
  example 令牌 for token).

With PO_FILE arguments only those catalogues are checked (the translators' quick
check); ``--no-extract`` skips the staleness check.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from babel.messages.pofile import read_po
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
LANGUAGE = "zh_CN"
MESSAGES = LOCALE / LANGUAGE / "LC_MESSAGES"
TERMS = LOCALE / LANGUAGE / "terms.tsv"

ROLE = re.compile(r"\{([a-z][a-z:-]*)\}`([^`]*)`")
CODE = re.compile(r"(`+)(.+?)\1")
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
URL = re.compile(r"(?<![(<])https?://[^\s)>\]]+")
_MD = MarkdownIt("commonmark")
# A cell that glues a whole sentence (not a number) glues its Chinese version too, under
# the same key with this suffix; the translation refers to that one.
ZH_SUFFIX = "_zh"


def role_targets(text: str) -> Counter:
    """Roles as (name, target): a glossary term is named by its English target."""
    found = Counter()
    for name, body in ROLE.findall(text):
        target = body
        match = re.search(r"<([^<>]+)>\s*$", body)
        if match and name in {"term", "ref", "doc", "numref", "download"}:
            target = match.group(1)
        if name == "term":
            target = target.strip().lower()
        if name.startswith("glue") and target.endswith(ZH_SUFFIX):
            target = target.removesuffix(ZH_SUFFIX)  # the Chinese version of a glued sentence
        found[(name, target.strip())] += 1
    return found


def markup(text: str) -> dict[str, Counter]:
    """What a translation must keep of its English: roles, code, maths, link targets."""
    rest = ROLE.sub(" ", text)
    code = Counter(m.group(2) for m in CODE.finditer(rest))
    rest = CODE.sub(" ", rest)
    maths = Counter((m.group(1) or m.group(2)).strip() for m in MATH.finditer(rest))
    rest = MATH.sub(" ", rest)
    links = Counter(LINK.findall(rest)) + Counter(URL.findall(rest))
    return {"roles": role_targets(text), "code": code, "maths": maths, "links": links}


def is_one_paragraph(text: str) -> bool:
    """True when Markdown reads text as a single paragraph (what Sphinx requires)."""
    blocks = [t for t in _MD.parse(text) if t.level == 0 and t.nesting >= 0]
    return len(blocks) >= 1 and blocks[0].type == "paragraph_open" and \
        sum(1 for t in blocks if t.nesting == 1) == 1 and \
        all(t.type in {"paragraph_open", "paragraph_close", "inline"} for t in blocks)


def avoided_terms() -> list[tuple[str, str, str]]:
    """(English, preferred, avoided form) for every avoided form of terms.tsv."""
    rows = []
    with TERMS.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            for form in filter(None, (f.strip() for f in (row.get("avoid") or "").split("/"))):
                rows.append((row["english"], row["chinese"], form))
    return rows


def check_catalogue(path: Path, avoid: list[tuple[str, str, str]]) -> list[str]:
    """Problems of one .po file, as 'file: message' lines."""
    problems = []
    with path.open("rb") as handle:
        catalogue = read_po(handle)
    name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    for message in catalogue:
        if not message.id:
            continue
        english, chinese = message.id, message.string
        short = english if len(english) < 70 else english[:67] + "..."
        if not chinese:
            problems.append(f"{name}: untranslated: {short!r}")
            continue
        if message.fuzzy:
            problems.append(f"{name}: fuzzy (check the translation, then remove the flag): {short!r}")
        if not is_one_paragraph(chinese):
            problems.append(f"{name}: the translation is not one Markdown paragraph "
                            f"(escape a leading '5.' as '5\\.', '-' or '#' as '\\-', '\\#'): {short!r}")
        want, got = markup(english), markup(chinese)
        for kind in want:
            if want[kind] != got[kind]:
                missing = list((want[kind] - got[kind]).elements())
                extra = list((got[kind] - want[kind]).elements())
                problems.append(f"{name}: {kind} differ from the English (missing {missing}, "
                                f"not in the English {extra}): {short!r}")
        for english_term, preferred, form in avoid:
            if form in chinese:
                problems.append(f"{name}: uses {form!r} for {english_term!r}; "
                                f"terms.tsv says {preferred!r}: {short!r}")
    return problems


def extract(dest: Path) -> Path:
    """Extract the English messages afresh (Sphinx's gettext builder) into dest."""
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(dest), "--builder", "custom",
           "--custom-builder", "gettext", "--all"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit("gettext extraction failed")
    return dest / "_build" / "gettext"


def stale(pot_dir: Path) -> list[str]:
    """Catalogues whose messages differ from a fresh extraction of the English."""
    problems = []
    pots = {p.relative_to(pot_dir).with_suffix(".po") for p in pot_dir.rglob("*.pot")}
    pos = {p.relative_to(MESSAGES) for p in MESSAGES.rglob("*.po")}
    for missing in sorted(pots - pos):
        problems.append(f"{MESSAGES.relative_to(ROOT) / missing}: missing (run make gettext)")
    for extra in sorted(pos - pots):
        problems.append(f"{MESSAGES.relative_to(ROOT) / extra}: no such page any more")
    for rel in sorted(pots & pos):
        with (pot_dir / rel.with_suffix(".pot")).open("rb") as handle:
            fresh = {m.id for m in read_po(handle) if m.id}
        with (MESSAGES / rel).open("rb") as handle:
            kept = {m.id for m in read_po(handle) if m.id}  # (obsolete entries are not iterated)
        for english in sorted(fresh - kept):
            problems.append(f"{MESSAGES.relative_to(ROOT) / rel}: stale: the English has a new "
                            f"message (run make gettext): {english[:80]!r}")
        for english in sorted(kept - fresh):
            problems.append(f"{MESSAGES.relative_to(ROOT) / rel}: stale: the English no longer "
                            f"says (run make gettext): {english[:80]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--no-extract", action="store_true")
    args = parser.parse_args(argv)
    files = [f.resolve() for f in args.files] or sorted(MESSAGES.rglob("*.po"))
    problems = []
    if not args.files and not args.no_extract:
        with tempfile.TemporaryDirectory() as tmp:
            problems += stale(extract(Path(tmp)))
    avoid = avoided_terms()
    for path in files:
        problems += check_catalogue(path, avoid)
    for line in problems:
        print(line)
    entries = sum(1 for f in files for _ in [0])
    print(f"{len(problems)} problem(s) in {entries} catalogue(s).", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
