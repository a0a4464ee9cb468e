"""What torch.compile buys on this machine's CPU: one training step, eager and compiled (Chapter 10).

    python -m bench.compile_speed                  # the book model's shape, B = 64 windows of T = 16
    python -m bench.compile_speed --shape gpt2     # GPT-2 124M's shape, B = 1, T = 128 (slow)

``torch.compile`` traces the model on its first call and generates fused kernels for it; that
first call takes tens of seconds on a CPU (it runs a C++ compiler), which is why Chapter 10
explains it but measures it here. The script prints the first compiled step's time (the
compilation), then the mean time per step of eager and compiled training (forward, backward and
AdamW on one fixed batch), and the speed-up. One thread, as in the chapters.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from shared import SEED, set_seed
from shared.model import GPT, GPTConfig
from shared.scaling import time_steps

SHAPES = {
    "book": (GPTConfig(vocab_size=2356, n_layers=2, dropout=0.0, pos_embedding="learned", tie_weights=True), 64, 16),
    "gpt2": (GPTConfig.gpt2(), 1, 128),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=SHAPES, default="book")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg, B, T = SHAPES[args.shape]
    steps = args.steps if args.shape == "book" else max(2, args.steps // 10)
    tokens = torch.randint(cfg.vocab_size, (B, T + 1), generator=torch.Generator().manual_seed(SEED))
    x, y = tokens[:, :-1], tokens[:, 1:]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, 1 thread, torch {torch.__version__}")
    print(f"shape {args.shape}: B={B}, T={T}, {steps} timed steps")

    set_seed()
    eager = GPT(cfg)
    eager_s, eager_losses = time_steps(eager, x, y, steps=steps, warmup=2)

    set_seed()
    compiled = torch.compile(GPT(cfg))
    start = time.perf_counter()
    _, first_losses = time_steps(compiled, x, y, steps=1, warmup=0)  # compiles forward and backward
    print(f"first compiled step (compilation included): {time.perf_counter() - start:.1f} s")
    compiled_s, _ = time_steps(compiled, x, y, steps=steps, warmup=1)

    print(f"eager    {eager_s * 1000:8.1f} ms/step")
    print(f"compiled {compiled_s * 1000:8.1f} ms/step   speed-up x{eager_s / compiled_s:.2f}")
    print(f"first loss: eager {eager_losses[0]:.6f}, compiled {first_losses[0]:.6f} (the same model and batch)")


if __name__ == "__main__":
    main()
