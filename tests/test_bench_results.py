"""The recorded benchmark (bench/results/train_speed.json) and the pages that quote it agree."""

from __future__ import annotations

import json

import pytest

from bench import train_speed

RESULT = json.loads(train_speed.RESULTS.read_text())


def section(path) -> str:
    text = path.read_text()
    start = text.index(train_speed.BEGIN) + len(train_speed.BEGIN)
    return text[start:text.index(train_speed.END, start)].strip("\n")


@pytest.mark.parametrize("path,make", [(train_speed.README, train_speed.markdown_table),
                                       (train_speed.INTRO, train_speed.intro_summary)], ids=["README", "intro"])
def test_pages_quote_the_results_file(path, make):
    assert section(path) == make(RESULT), f"run: python -m bench.train_speed --report ({path.name} is stale)"


def test_the_record_is_complete_and_its_verdicts_follow_from_it():
    course, fast, best = RESULT["course"], RESULT["fast"], RESULT["three_minute"]
    assert course["parameters"] == 13_307_558 and course["steps"] == 5000
    assert [row[0] for row in course["along"]] == list(range(0, 5001, 250))
    assert len(best) >= 3 and len({b["seed"] for b in best}) == len(best)
    for key in ("cpu", "cores", "torch", "threads", "date"):
        assert RESULT["machine"][key]
    # The verdicts are recomputed from the figures, never typed in.
    assert RESULT["targets"] == train_speed.targets(course, fast, best, RESULT["budget_s"])
    # The fast recipe was stopped at the first check at or below the course's final figure.
    assert fast["bpb"] <= course["bpb"] < min(row[2] for row in fast["along"][:-1])
