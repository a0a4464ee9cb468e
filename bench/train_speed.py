"""Training speed on this machine's CPU: time to a validation loss of 4.79, best loss in 3 minutes.

    python bench/train_speed.py              # the book's fast recipe, then its 3-minute recipe
    python bench/train_speed.py --baseline   # also the original course's program (about 10 minutes)

Validation protocol (as in shared.training): the last 10% of the corpus's tokens; the loss is
the mean next-token cross-entropy over every 16-token window (stride 1), every prediction of
every window counted. The training clock stops while the model is evaluated: the times
printed are training time only (the evaluation time is printed separately).
Peak memory is the process's maximum resident set size (resource.getrusage ru_maxrss).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import torch

from shared import set_seed
from shared.book import load_book_data
from shared.data import encode, load_corpus, train_val_split
from shared.model import GPT, GPTConfig
from shared.training import TrainConfig, train

TARGET = 4.79  # the original course's final validation loss


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(name, model_cfg, train_cfg, train_data, val_data, *, stop_at=None, budget_s=None):
    """Train; stop at the first evaluation <= stop_at or once training time passes budget_s."""
    set_seed()  # the book's seed (shared.SEED)
    model = GPT(model_cfg)

    def should_stop(h):
        return (stop_at is not None and h.val_loss[-1] <= stop_at) or (
            budget_s is not None and h.train_seconds[-1] >= budget_s)

    start = time.perf_counter()
    history = train(model, train_data, val_data, train_cfg, callback=should_stop, progress=False)
    eval_seconds = time.perf_counter() - start - history.train_seconds[-1]
    print(f"\n{name}: {model.num_params():,} parameters, {model_cfg.n_layers} blocks, "
          f"vocab {model_cfg.vocab_size:,}, batch {train_cfg.batch_size}, {train_cfg.steps} steps scheduled")
    for s, tr, va, sec in zip(history.step, history.train_loss, history.val_loss, history.train_seconds, strict=True):
        print(f"  step {s:5d}  train {tr:.3f}  val {va:.3f}  training time {sec:6.1f} s", flush=True)
    print(f"  evaluation time (not counted above): {eval_seconds:.1f} s")
    return history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", action="store_true", help="also run the original course's program")
    parser.add_argument("--budget", type=float, default=180.0, help="training seconds for the best-loss run")
    parser.add_argument("--layers", type=int, default=4, help="blocks of the best-loss model")
    parser.add_argument("--dropout", type=float, default=0.2, help="dropout of the best-loss model")
    parser.add_argument("--steps", type=int, default=3800, help="scheduled steps of the best-loss run")
    parser.add_argument("--smoothing", type=float, default=0.1, help="label smoothing of the best-loss run")
    parser.add_argument("--ema", type=float, default=0.999, help="weight-average decay of the best-loss run")
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
    print(f"compact vocabulary {len(vocab):,}; {len(train_data):,} training, {len(val_data):,} validation tokens")

    # 1. Fastest to 4.79: a small model, no dropout, a high learning rate, frequent evaluation.
    fast = run(
        "fast recipe (time to 4.79)",
        GPTConfig(vocab_size=len(vocab), n_layers=2, dropout=0.0, pos_embedding="learned", tie_weights=True),
        TrainConfig(steps=500, batch_size=64, lr=6e-3, min_lr=6e-4, warmup_steps=50, eval_every=25, device="cpu"),
        train_data, val_data, stop_at=TARGET,
    )
    hit = next((i for i, v in enumerate(fast.val_loss) if v <= TARGET), None)
    fast_result = (f"reached {fast.val_loss[hit]:.3f} <= {TARGET} after {fast.step[hit]} steps, "
                   f"{fast.train_seconds[hit]:.1f} s of training" if hit is not None else f"did not reach {TARGET}")

    # 2. Best validation loss within the time budget: a bigger model, dropout, label smoothing
    #    and an exponential moving average of the weights (the loss printed is the average's).
    best = run(
        f"best recipe ({args.budget:.0f} s budget)",
        GPTConfig(vocab_size=len(vocab), n_layers=args.layers, dropout=args.dropout,
                  pos_embedding="learned", tie_weights=True),
        TrainConfig(steps=args.steps, batch_size=64, lr=3e-3, min_lr=3e-4, warmup_steps=100, eval_every=250,
                    label_smoothing=args.smoothing, ema_decay=args.ema or None,
                    device="cpu"),
        train_data, val_data, budget_s=args.budget,
    )
    within = [v for v, s in zip(best.val_loss, best.train_seconds, strict=True) if s <= args.budget] or [float("inf")]
    best_result = f"best validation loss {min(within):.3f} within {args.budget:.0f} s of training"

    baseline_result = None
    if args.baseline:
        # The original course: full GPT-2 vocabulary, 8 blocks, sinusoidal positions, untied,
        # batch 4, constant lr 1e-3 for 5,000 steps (it evaluated every 20 steps; here every 500).
        tokens = encode(load_corpus())
        full_train, full_val = train_val_split(tokens, 0.1)
        base = run(
            "original course (baseline)",
            GPTConfig(vocab_size=50257, n_layers=8, dropout=0.1),
            TrainConfig(steps=5000, batch_size=4, lr=1e-3, min_lr=1e-3, warmup_steps=0, weight_decay=0.0,
                        grad_clip=None, eval_every=500, eval_batch_size=32, device="cpu"),
            full_train, full_val,
        )
        baseline_result = (f"final validation loss {base.val_loss[-1]:.3f} after "
                           f"{base.train_seconds[-1]:.0f} s of training")

    print("\nRESULTS")
    print(f"  time to {TARGET}: {fast_result}")
    print(f"  {best_result}")
    if baseline_result:
        print(f"  baseline: {baseline_result}")
    print(f"  peak memory (max RSS of this process): {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
