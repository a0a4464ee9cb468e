"""Chapter 7's comparison at full length: each variant of the book model trained by the book's recipe.

    python -m bench.variants               # 1,000 steps each, as the book model (about 15 minutes)
    python -m bench.variants --steps 300   # the length Chapter 7 runs in the chapter itself

Every variant changes one setting of the book model (shared.variants.VARIANTS) and keeps the rest,
seeds included; "another seed" repeats the book model with other seeds, to show how much of a
difference is noise. Validation loss: the book's protocol (every 16-token window, scored over all
50,257 GPT-2 ids with the <unk> rule). Training time is CPU time on one thread, evaluation excluded.
"""

from __future__ import annotations

import argparse
import os
import platform

import torch

from shared.book import BOOK_TRAIN
from shared.variants import VARIANTS, WINNER_SEEDS, train_variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=BOOK_TRAIN.steps, help="updates per variant")
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"one thread; load average at start {load:.2f}; {args.steps} steps per variant")
    rows = []
    for name in (n for n in VARIANTS if n not in WINNER_SEEDS[1:]):  # Chapter 7 runs those seeds itself
        r = train_variant(name, args.steps)
        rows.append(r)
        print(f"  {name}: validation {r['val loss']:.3f}, {r['CPU ms/step']:.0f} CPU ms/step", flush=True)
    base = rows[0]["val loss"]
    print(f"\n| variant ({args.steps} steps) | parameters | validation loss | vs book model | CPU ms/step |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['variant']} | {r['parameters']:,} | {r['val loss']:.3f} | {r['val loss'] - base:+.3f} | "
              f"{r['CPU ms/step']:.0f} |")


if __name__ == "__main__":
    main()
