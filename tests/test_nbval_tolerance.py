"""tests/nbval_tolerance.py: numbers within tolerance pass, anything else still fails."""

import nbformat
import pytest

from tests.nbval_tolerance import Tolerance, align_numbers, align_outputs, cell_tolerance

TOL = Tolerance(rtol=0.001)


def test_numbers_within_tolerance_take_the_stored_text():
    stored = "loss 5.5394 / 5.5387 after 100 steps"
    fresh, problems = align_numbers("loss 5.5389 / 5.5380 after 100 steps", stored, TOL)
    assert problems == [] and fresh == stored


def test_a_number_out_of_tolerance_is_reported():
    fresh, problems = align_numbers("loss 5.60", "loss 5.54", TOL)
    assert fresh == "loss 5.60" and len(problems) == 1 and "stored 5.54, got 5.60" in problems[0]


def test_rounding_of_the_last_printed_digit_is_allowed():
    # 4.2849 printed as 4.28 where 4.2851 was stored as 4.29: one unit in the last digit
    assert align_numbers("loss 4.28", "loss 4.29", Tolerance(rtol=0.0))[1] == []
    assert align_numbers("loss 4.27", "loss 4.29", Tolerance(rtol=0.0))[1] != []


def test_integers_follow_rtol_only():
    assert align_numbers("perplexity 74", "perplexity 73", Tolerance(rtol=0.02))[1] == []
    assert align_numbers("step 81", "step 80", Tolerance(rtol=0.0))[1] != []


def test_other_words_or_counts_are_left_for_the_exact_comparison():
    for fresh, stored in [("loss 5.5", "cost 5.5"), ("loss 5.5 5.6", "loss 5.5"), ("a 1", "a 1 b")]:
        assert align_numbers(fresh, stored, TOL) == (fresh, [])


def test_numbers_glued_to_words_are_words():
    fresh, problems = align_numbers("gpt2 x1 3.0", "gpt3 x1 3.0", TOL)
    assert fresh == "gpt2 x1 3.0" and problems == []  # the exact comparison will see gpt2 != gpt3


def test_scientific_notation():
    assert align_numbers("err 1.02e-05", "err 1.01e-05", Tolerance(rtol=0.0))[1] == []
    assert align_numbers("err 1.05e-05", "err 1.01e-05", Tolerance(rtol=0.0))[1] != []


def test_outputs_streams_and_tables():
    def outputs(loss, prob):
        return [nbformat.v4.new_output("stream", name="stdout", text=f"loss {loss}\n"),
                nbformat.v4.new_output("execute_result", data={"text/plain": f"a  {prob}",
                                                               "text/html": f"<td>{prob}</td>"})]

    stored, fresh = outputs("5.5394", "0.1998"), outputs("5.5389", "0.1999")
    aligned, problems = align_outputs(fresh, stored, TOL)
    assert problems == []
    assert aligned[0]["text"] == "loss 5.5394\n" and aligned[1]["data"]["text/html"] == "<td>0.1998</td>"


def test_cell_tolerance_reads_tag_and_metadata():
    cell = nbformat.v4.new_code_cell("x", metadata={"tags": ["nbval-tolerance"], "nbval": {"rtol": 0.05}})
    assert cell_tolerance(cell) == Tolerance(rtol=0.05)
    assert cell_tolerance(nbformat.v4.new_code_cell("x")) is None


@pytest.mark.parametrize("stored,limit", [("5.5394", 0.0001 + 0.0055394), ("73", 0.073), ("1e-05", 1e-05 + 1e-08)])
def test_allowed_difference(stored, limit):
    assert Tolerance(rtol=0.001).allowed(stored) == pytest.approx(limit)


def test_digits_grouped_by_commas_are_one_number():
    stored = "7,994 tokens; 4.350 nats per token; 50,168 bits in all = 1.1223 bits per byte"
    fresh = "7,994 tokens; 4.351 nats per token; 50,182 bits in all = 1.1226 bits per byte"
    aligned, problems = align_numbers(fresh, stored, Tolerance(rtol=0.01))
    assert problems == [] and aligned == stored  # 50,182 is 0.03% from 50,168, not 168 against 182
    _, problems = align_numbers("51,200 bits", "50,168 bits", Tolerance(rtol=0.01))
    assert len(problems) == 1  # 2% away: out of a 1% band


def test_measured_bands_apply_number_by_number():
    from tests.nbval_tolerance import Tolerance, align_outputs

    def out(text):
        return [{"output_type": "stream", "name": "stdout", "text": text}]

    stored = out("steps 20, loss 5.712\n")
    # The count 20 must match exactly; the loss may move by 0.005.
    _, problems = align_outputs(out("steps 20, loss 5.716\n"), stored, Tolerance(), bands=(0.0, 0.005))
    assert problems == []
    _, problems = align_outputs(out("steps 20, loss 5.716\n"), stored, Tolerance(), bands=(0.0, 0.002))
    assert len(problems) == 1 and "5.716" in problems[0]
    _, problems = align_outputs(out("steps 21, loss 5.712\n"), stored, Tolerance(), bands=(0.0, 0.005))
    assert len(problems) == 1 and "21" in problems[0]
    # Bands that do not fit the stored numbers (a cell changed since calibration) are not used.
    _, problems = align_outputs(out("steps 20, loss 5.716\n"), stored, Tolerance(rtol=0.0), bands=(0.0,))
    assert len(problems) == 1
