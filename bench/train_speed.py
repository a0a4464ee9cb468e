"""The book's training recipes against the original course's program: one run, side by side.

    python -m bench.train_speed              # about 30 minutes; writes bench/results/train_speed.json
    python -m bench.train_speed --quick      # a few minutes: short runs, to try the script (no file)
    python -m bench.train_speed --report     # rewrite the README's and the intro's figures from the file

Every run trains in a process of its own, one after the other, with one PyTorch thread, so
that each one's peak memory is its own and the runs do not share cores:

1. **The course**: its own program (``bench/course.py``): cl100k tokens, 8 blocks, 100,070
   outputs, batch 4, AdamW at a constant 1e-3 for 5,000 steps. Its final bits per byte is the
   target of the next run.
2. **The fast recipe**: the book's model shape with 2 blocks, no dropout and a high learning
   rate, stopped at the first check (every 25 steps) at or below the course's final figure.
3. **The 3-minute recipe**, three seeds: 4 blocks, dropout 0.2, label smoothing 0.1 and a weight
   average (EMA 0.999). Its step count is calibrated at the start, from the time of 30 steps,
   so that the cosine schedule ends within the 180 s budget; the budget also stops it.

**One metric: bits per byte** of the book's validation text (:func:`shared.book.scored_text`),
each token scored once with up to 16 tokens of context over the model's full output (the
course's 100,070; the book's 50,257 GPT-2 ids through its ``<unk>`` rule), summed in bits and
divided by the text's 44,702 UTF-8 bytes. Per-token losses cannot compare cl100k with GPT-2
tokens; bits per byte can. Both are also scored on the validation text's second half
("held-out"), on which no setting of any recipe was ever chosen.

**Training time** counts the training steps only (batch, forward, backward, update; not the
scoring), for every run alike, as this process's CPU time (``time.process_time``): with one
thread this equals the wall-clock time on a quiet machine, and another program running
beside the benchmark does not inflate it. Wall-clock seconds are recorded too. **Peak
memory** is the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import torch

from shared import SEED, set_seed

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "train_speed.json"
README, INTRO = ROOT / "README.md", ROOT / "book" / "intro.md"
BEGIN, END = "<!-- begin: made by python -m bench.train_speed --report -->", "<!-- end -->"
BUDGET_S = 180.0
SEEDS = (SEED, SEED + 1, SEED + 2)
TARGET_TIME_FRACTION = 0.01  # the fast recipe reaches the course's final figure in <= 1% of its time
TARGET_MARGIN_BPB = 0.10  # the 3-minute recipe lands this far below the course's final figure
TARGET_PEAK_MB = 1024


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "torch": torch.__version__, "threads": 1,
            "python": platform.python_version(), "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def course_run(steps: int, score_every: int) -> dict:
    """The course's program, in this (child) process."""
    from bench.course import course_bits_per_byte, train_course

    torch.set_num_threads(1)
    wall = time.perf_counter()
    model, rec = train_course(steps, score_every, clock=time.process_time)
    return {"name": "course", "parameters": sum(p.numel() for p in model.parameters()),
            "steps": steps, "seconds": rec["seconds"][-1], "wall_seconds": time.perf_counter() - wall,
            "along": [list(t) for t in zip(rec["step"], rec["seconds"], rec["bpb"], strict=True)],
            "bpb": rec["bpb"][-1], "held_out_bpb": course_bits_per_byte(model, "held-out"),
            "peak_mb": peak_memory_mb()}


def book_run(name: str, model_changes: dict, cfg_changes: dict, *, target: float | None = None,
             budget_s: float | None = None, seed: int = SEED) -> dict:
    """One of the book's recipes, in this (child) process: the book model's shape with
    ``model_changes``, trained by ``TrainConfig(**cfg_changes)``; stopped at the first check at or
    below ``target`` bits per byte, or once ``budget_s`` CPU seconds of training have passed."""
    from shared.book import book_bits_per_byte, book_model_config, load_book_data
    from shared.model import GPT
    from shared.training import TrainConfig, train

    torch.set_num_threads(1)
    vocab, train_data, val_data = load_book_data()
    model_cfg = replace(book_model_config(len(vocab)), **model_changes)
    cfg = TrainConfig(device="cpu", eval_stride=16, seed=seed, **cfg_changes)
    calibration = None
    if budget_s is not None:  # calibrate the step count: time 30 steps of a throwaway copy
        set_seed(seed)
        probe = train(GPT(model_cfg), train_data, val_data, replace(cfg, steps=30, eval_every=30),
                      progress=False, clock=time.process_time)
        calibration = probe.train_seconds[-1] / 30
        cfg = replace(cfg, steps=int(0.95 * budget_s / calibration))
    set_seed(seed)
    model = GPT(model_cfg)

    def stop(h) -> bool:
        return bool((target is not None and h.score[-1] <= target) or
                    (budget_s is not None and h.train_seconds[-1] >= budget_s))

    wall = time.perf_counter()
    h = train(model, train_data, val_data, cfg, callback=stop, progress=False, vocab=vocab,
              clock=time.process_time, score=lambda m: book_bits_per_byte(m, vocab))
    return {"name": name, "seed": seed, "parameters": model.num_params(), "steps_scheduled": cfg.steps,
            "steps": h.step[-1], "seconds": h.train_seconds[-1], "wall_seconds": time.perf_counter() - wall,
            "seconds_per_step_calibrated": calibration,
            "along": [list(t) for t in zip(h.step, h.train_seconds, h.score, strict=True)],
            "bpb": h.score[-1], "held_out_bpb": book_bits_per_byte(model, vocab, "held-out"),
            "val_loss_nats_stride16": h.val_loss[-1], "peak_mb": peak_memory_mb()}


FAST = ({"n_layers": 2, "dropout": 0.0},
        {"steps": 500, "batch_size": 64, "lr": 6e-3, "min_lr": 6e-4, "warmup_steps": 50, "eval_every": 25})
THREE_MINUTE = ({"n_layers": 4, "dropout": 0.2},
                {"batch_size": 64, "lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 100, "eval_every": 250,
                 "label_smoothing": 0.1, "ema_decay": 0.999})


def in_own_process(fn, *args, **kwargs) -> dict:
    """Run ``fn`` in a fresh (spawned) process and return its result."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply(fn, args, kwargs)
    print(f"  {result['name']}: {result['bpb']:.4f} bits/byte after {result['steps']} steps, "
          f"{result['seconds']:.1f} s of training, peak {result['peak_mb']:.0f} MB", flush=True)
    return result


def targets(course: dict, fast: dict, best: list[dict], budget_s: float) -> list[dict]:
    """The benchmark's targets, each met or missed."""
    finals = [b["bpb"] for b in best]
    return [
        {"target": f"fast recipe reaches the course's final bits per byte in <= {TARGET_TIME_FRACTION:.0%} "
                   "of the course's training time",
         "value": fast["seconds"] / course["seconds"],
         "met": fast["bpb"] <= course["bpb"] and fast["seconds"] <= TARGET_TIME_FRACTION * course["seconds"]},
        {"target": f"3-minute recipe ends its schedule within {budget_s:.0f} s (every seed)",
         "value": max(b["seconds"] for b in best),
         "met": all(b["steps"] == b["steps_scheduled"] and b["seconds"] <= budget_s for b in best)},
        {"target": f"3-minute recipe lands >= {TARGET_MARGIN_BPB:.2f} bits/byte below the course "
                   "(worst seed)",
         "value": course["bpb"] - max(finals),
         "met": course["bpb"] - max(finals) >= TARGET_MARGIN_BPB},
        {"target": f"every run under {TARGET_PEAK_MB} MB peak memory",
         "value": max(r["peak_mb"] for r in [course, fast, *best]),
         "met": all(r["peak_mb"] < TARGET_PEAK_MB for r in [course, fast, *best])},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs to try the script; writes no file")
    parser.add_argument("--report", action="store_true", help="only rewrite README.md and book/intro.md "
                        "from the results file")
    args = parser.parse_args()
    if args.report:
        result = json.loads(RESULTS.read_text())
        for path, text in ((README, markdown_table(result)), (INTRO, intro_summary(result))):
            path.write_text(with_section(path.read_text(), text))
            print(f"rewrote the benchmark's section of {path.name}")
        return
    course_steps, budget, seeds = (200, 20.0, SEEDS[:1]) if args.quick else (5000, BUDGET_S, SEEDS)
    info = machine()
    info["load_average_start"] = os.getloadavg()[0]
    print(f"{info['cpu']}, {info['cores']} cores, torch {info['torch']}, one thread per run; "
          f"load average {info['load_average_start']:.2f} at the start", flush=True)

    course = in_own_process(course_run, course_steps, 250 if not args.quick else 50)
    fast = in_own_process(book_run, "fast recipe", *FAST, target=course["bpb"])
    best = [in_own_process(book_run, "3-minute recipe", *THREE_MINUTE, budget_s=budget, seed=s) for s in seeds]
    info["load_average_end"] = os.getloadavg()[0]
    result = {"machine": info, "budget_s": budget, "course": course, "fast": fast, "three_minute": best,
              "targets": targets(course, fast, best, budget)}
    print()
    print(markdown_table(result))
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        tmp = RESULTS.with_suffix(".json.part")
        tmp.write_text(json.dumps(result, indent=1) + "\n")
        tmp.replace(RESULTS)
        print(f"\nwrote {RESULTS}; now run: python -m bench.train_speed --report")


def markdown_table(result: dict) -> str:
    """The side-by-side table (README, intro and Chapter 7 show it) and the targets."""
    c, f, best = result["course"], result["fast"], result["three_minute"]
    finals = sorted(b["bpb"] for b in best)
    held = sorted(b["held_out_bpb"] for b in best)
    m = result["machine"]
    lines = [
        f"Measured {m['date']} on {m['cpu']} ({m['cores']} cores), torch {m['torch']}, one thread per run; "
        "bits per byte of the book's validation text (lower is better); training time is CPU time of "
        "the training steps only.",
        "",
        "| run | parameters | steps | training time | bits per byte | held-out half | peak memory |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| the course's program | {c['parameters']:,} | {c['steps']:,} | {c['seconds']:,.0f} s | {c['bpb']:.3f} | "
        f"{c['held_out_bpb']:.3f} | {c['peak_mb']:,.0f} MB |",
        f"| book, fast recipe (stops at the course's figure) | {f['parameters']:,} | {f['steps']:,} | "
        f"{f['seconds']:.1f} s | {f['bpb']:.3f} | {f['held_out_bpb']:.3f} | {f['peak_mb']:.0f} MB |",
        f"| book, 3-minute recipe ({len(best)} seeds: min / median / max) | {best[0]['parameters']:,} | "
        f"{min(b['steps'] for b in best):,}–{max(b['steps'] for b in best):,} | "
        f"{max(b['seconds'] for b in best):.0f} s at most | "
        f"{finals[0]:.3f} / {statistics.median(finals):.3f} / {finals[-1]:.3f} | "
        f"{held[0]:.3f} / {statistics.median(held):.3f} / {held[-1]:.3f} | "
        f"{max(b['peak_mb'] for b in best):.0f} MB |",
        "",
    ]
    lines += [f"- {'met' if t['met'] else 'missed'}: {t['target']}" for t in result["targets"]]
    return "\n".join(lines)



def intro_summary(result: dict) -> str:
    """The intro's two sentences on the comparison."""
    c, f, best = result["course"], result["fast"], result["three_minute"]
    finals = sorted(b["bpb"] for b in best)
    median = statistics.median(finals)
    return (f"Measured side by side on one machine ({result['machine']['cpu']}, {result['machine']['date'][:10]}), "
            f"in bits per byte of the same validation text (lower is better): the course's program ends at "
            f"{c['bpb']:.3f} after {c['seconds']:,.0f} s of training; the book's fast recipe reaches that in "
            f"{f['seconds']:.1f} s, {c['seconds'] / f['seconds']:.0f} times sooner, while its 3-minute recipe ends "
            f"at {median:.3f} (median of {len(best)} seeds), {'below' if median < c['bpb'] else 'above'} the "
            "course's figure. [Chapter 7](../chapters/07_training.ipynb) reports each target as met or missed.")


def with_section(text: str, section: str) -> str:
    """``text`` with the part between BEGIN and END replaced by ``section``."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END, text.index(BEGIN))
    return text[:start] + "\n" + section + "\n" + text[end:]


if __name__ == "__main__":
    main()
