"""Training speed and quality on this machine's CPU, three recipes side by side, one protocol.

    python bench/train_speed.py                 # course baseline (~10 min), fast recipe, 3-minute recipe
    python bench/train_speed.py --no-baseline   # the two book recipes only, against --target

1. The original course's program (full GPT-2 vocabulary, 8 blocks, batch 4, 5,000 steps).
   Its final validation loss is the target of the next run.
2. The book's fast recipe, stopped at the first evaluation at or below that loss:
   the time it took is the "time to the course's loss".
3. The book's 3-minute recipe: the best validation loss within 180 s of training.

Validation protocol (the same for all three, see shared.training.evaluate): the last 10% of
the corpus's GPT-2 tokens; the mean next-token cross-entropy over every 16-token window
(stride 1), every prediction counted, *over all 50,257 GPT-2 ids*. The book's recipes use a
compact vocabulary built from the training split alone (tokens seen at least twice there);
every other token shares one <unk> output, whose probability is split evenly over the ids it
stands for. The course's model scores all ids directly. The script also prints the loss over
the validation targets that occur in the training split ("seen targets"), where no <unk> rule
is involved.

The training clock stops while a model is evaluated: times are training time only. Peak memory
is the process's maximum resident set size (resource.getrusage ru_maxrss).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import time

import torch

from shared import set_seed
from shared.book import load_book_data, load_book_tokens
from shared.data import CompactVocab
from shared.model import GPT, GPTConfig
from shared.training import History, TrainConfig, evaluate, train


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(name: str, model_cfg: GPTConfig, train_cfg: TrainConfig, data: tuple, vocab: CompactVocab | None,
        seen: torch.Tensor, *, stop_at: float | None = None, budget_s: float | None = None) -> dict:
    """Train one recipe; stop at the first full evaluation <= stop_at or once training time
    passes budget_s. Return its results, with the loss over seen targets of the final model."""
    train_data, val_data = data
    set_seed()  # the book's seed (shared.SEED)
    model = GPT(model_cfg)

    def should_stop(h: History) -> bool:
        full = h.full_step and h.full_step[-1] == h.step[-1]
        return bool((stop_at is not None and full and h.full_val_loss[-1] <= stop_at) or (
            budget_s is not None and h.train_seconds[-1] >= budget_s))

    start = time.perf_counter()
    history = train(model, train_data, val_data, train_cfg, callback=should_stop, progress=False, vocab=vocab)
    eval_seconds = time.perf_counter() - start - history.train_seconds[-1]
    print(f"\n{name}: {model.num_params():,} parameters, {model_cfg.n_layers} blocks, "
          f"{model_cfg.vocab_size:,} outputs, batch {train_cfg.batch_size}, {train_cfg.steps} steps scheduled")
    seconds = dict(zip(history.step, history.train_seconds, strict=True))
    for s, va in zip(history.full_step, history.full_val_loss, strict=True):
        print(f"  step {s:5d}  val {va:.3f}  training time {seconds[s]:6.1f} s", flush=True)
    print(f"  evaluation time (not counted above): {eval_seconds:.1f} s")
    T = model_cfg.context_length
    return {"history": history, "final": history.full_val_loss[-1], "step": history.full_step[-1],
            "seconds": seconds[history.full_step[-1]],
            "seen": evaluate(model, val_data, T, train_cfg.eval_batch_size, vocab=vocab, count=seen),
            "peak_mb": peak_memory_mb()}


def course_baseline(threads: int) -> dict:
    """The original course's program: full GPT-2 vocabulary, 8 blocks, sinusoidal positions,
    untied, dropout 0.1, batch 4, constant lr 1e-3 for 5,000 steps, no weight decay, no clipping.
    (It evaluated every 20 steps; here cheaply every 500 and fully at the end.) Runs in its own
    process, so that its memory is measured apart from the book's recipes."""
    torch.set_num_threads(threads)
    train_ids, val_ids = load_book_tokens()
    return run(
        "original course (baseline)",
        GPTConfig(vocab_size=50257, n_layers=8, dropout=0.1),
        TrainConfig(steps=5000, batch_size=4, lr=1e-3, min_lr=1e-3, warmup_steps=0, weight_decay=0.0,
                    grad_clip=None, eval_every=500, eval_stride=16, full_eval_every=5000,
                    eval_batch_size=32, device="cpu"),
        (train_ids, val_ids), None, torch.isin(val_ids, train_ids),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-baseline", action="store_true", help="skip the course's program (about 10 minutes)")
    parser.add_argument("--target", type=float, default=None,
                        help="with --no-baseline: the loss the fast recipe must reach (default: none)")
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds for the best-loss run")
    parser.add_argument("--steps", type=int, default=3800, help="scheduled steps of the 3-minute recipe")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(),
                        help="PyTorch threads (default: PyTorch's, one per core; 1 is faster on a busy machine)")
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
          f"torch {torch.__version__}; PyTorch's default {default_threads} threads, using {torch.get_num_threads()}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at start: {load:.2f}  (timings are only meaningful on a quiet machine)")
    vocab, train_data, val_data = load_book_data()
    train_ids, val_ids = load_book_tokens()
    seen = torch.isin(val_ids, train_ids)  # validation targets that occur in the training split
    print(f"compact vocabulary {len(vocab) - 1:,} ids + <unk> (for {vocab.n_unk_ids:,} GPT-2 ids); "
          f"{len(train_data):,} training, {len(val_data):,} validation tokens; "
          f"{int((~seen).sum())} validation tokens never occur in training")

    results = {}
    target = args.target
    if not args.no_baseline:
        pool = multiprocessing.get_context("spawn").Pool(1)
        results["course"] = pool.apply(course_baseline, (torch.get_num_threads(),))
        pool.close()
        pool.join()
        target = results["course"]["final"]

    # The fast recipe: a small model, no dropout, a high learning rate, frequent evaluation.
    results["fast"] = run(
        "fast recipe (time to the course's loss)",
        GPTConfig(vocab_size=len(vocab), n_layers=2, dropout=0.0, pos_embedding="learned", tie_weights=True),
        TrainConfig(steps=500, batch_size=64, lr=6e-3, min_lr=6e-4, warmup_steps=50, eval_every=25,
                    full_eval_every=25, device="cpu"),
        (train_data, val_data), vocab, seen, stop_at=target,
    )
    # The 3-minute recipe: more capacity, dropout, label smoothing and an exponential moving
    # average of the weights (the loss printed is the average's).
    results["best"] = run(
        f"3-minute recipe ({args.budget:.0f} s budget)",
        GPTConfig(vocab_size=len(vocab), n_layers=4, dropout=0.2, pos_embedding="learned", tie_weights=True),
        TrainConfig(steps=args.steps, batch_size=64, lr=3e-3, min_lr=3e-4, warmup_steps=100, eval_every=250,
                    full_eval_every=250, label_smoothing=0.1, ema_decay=0.999, device="cpu"),
        (train_data, val_data), vocab, seen, budget_s=args.budget,
    )
    best_h = results["best"]["history"]
    train_s = dict(zip(best_h.step, best_h.train_seconds, strict=True))
    within = [(v, s) for s, v in zip(best_h.full_step, best_h.full_val_loss, strict=True) if train_s[s] <= args.budget]
    best_loss, best_step = min(within) if within else (float("inf"), 0)

    fast = results["fast"]
    reached = target is not None and fast["final"] <= target
    print("\nRESULTS (validation loss over all 50,257 GPT-2 ids; training time only)")
    print("| recipe | final validation loss | on seen targets | training time | peak memory |")
    print("| --- | --- | --- | --- | --- |")
    if "course" in results:
        c = results["course"]
        print(f"| original course | {c['final']:.3f} | {c['seen']:.3f} | {c['seconds']:.0f} s ({c['step']} steps) | "
              f"{c['peak_mb']:.0f} MB |")
    fast_time = (f"{fast['seconds']:.1f} s to reach {target:.3f} ({fast['step']} steps)" if reached
                 else f"did not reach {target:.3f}" if target is not None else f"{fast['seconds']:.1f} s")
    print(f"| book, fast recipe | {fast['final']:.3f} | {fast['seen']:.3f} | {fast_time} | {fast['peak_mb']:.0f} MB |")
    print(f"| book, 3-minute recipe | {best_loss:.3f} (best within {args.budget:.0f} s, step {best_step}) | "
          f"{results['best']['seen']:.3f} (final model) | {results['best']['seconds']:.0f} s | "
          f"{results['best']['peak_mb']:.0f} MB |")
    print("peak memory: maximum resident set size of the process so far (the course runs in a process of its own)")


if __name__ == "__main__":
    main()
