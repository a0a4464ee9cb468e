"""Tokens per second with and without the KV cache (CPU, greedy decoding, batch 1).

    python -m bench.generation_speed --shape book  # the book model's architecture, context 512
    python -m bench.generation_speed --shape gpt2  # GPT-2 124M's shape

One protocol for both shapes: random weights (the speed of a forward pass does not
depend on their values, so no GPT-2 weights are downloaded), one warm-up call, then
each loop timed ``--repeats`` times and the best run kept, on ``--threads`` PyTorch
threads (default 1: one token of a small model is too little work to split, and on a
busy machine extra threads spend their time waiting for each other). The prompt plus
the new tokens fit in the context window, so the cached and uncached loops must
produce the same tokens; this is checked before a speed-up is printed.

Why a context of 512 for the book's shape and not its 16: our model uses absolute
positions, so once the sequence is longer than the window every token changes
position and the cache must be rebuilt (see shared/generation.py). With a window of
16 tokens generation is almost all rebuilding and the cache has nothing to save.
The book's shape needs the corpus (for the size of its compact vocabulary), which is
downloaded on first use like in the chapters.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass, replace

import torch

from shared import set_seed
from shared.generation import generate
from shared.model import GPT, GPTConfig


@dataclass(frozen=True)
class Shape:
    """What to measure: a model shape with its prompt and generation lengths."""

    description: str
    cfg: GPTConfig
    prompt_tokens: int
    new_tokens: int


def book_shape() -> Shape:
    """The book model of Chapter 7 (its compact vocabulary) with a window of 512 and no dropout."""
    from shared.book import book_model_config, load_book_data

    vocab, _, _ = load_book_data()
    cfg = replace(book_model_config(len(vocab)), context_length=512, dropout=0.0)
    return Shape("the book model's architecture, context 512", cfg, prompt_tokens=16, new_tokens=256)


def gpt2_shape() -> Shape:
    """GPT-2 small (124M parameters), its full window of 1024."""
    return Shape("GPT-2 124M shape", GPTConfig.gpt2(), prompt_tokens=32, new_tokens=64)


SHAPES = {"book": book_shape, "gpt2": gpt2_shape}


def best_rate(model: GPT, prompt: torch.Tensor, new_tokens: int, use_cache: bool,
              repeats: int) -> tuple[float, torch.Tensor]:
    """Tokens per second of the fastest of ``repeats`` runs, and the tokens generated."""
    generate(model, prompt, 2, greedy=True, use_cache=use_cache)  # warm up
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = generate(model, prompt, new_tokens, greedy=True, use_cache=use_cache)
        best = min(best, time.perf_counter() - start)
    return new_tokens / best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", choices=sorted(SHAPES), default="book", help="the model to time (default book)")
    parser.add_argument("--prompt-tokens", type=int, help="prompt length (default: 16 for book, 32 for gpt2)")
    parser.add_argument("--new-tokens", type=int, help="tokens to generate (default: 256 for book, 64 for gpt2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per loop, the best is kept (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads (default 1)")
    args = parser.parse_args()
    shape = SHAPES[args.shape]()
    prompt_tokens = args.prompt_tokens or shape.prompt_tokens
    new_tokens = args.new_tokens or shape.new_tokens
    if prompt_tokens + new_tokens > shape.cfg.context_length:
        parser.error(f"prompt + new tokens must fit in the context window ({shape.cfg.context_length})")
    torch.set_num_threads(args.threads)

    set_seed(0)
    model = GPT(shape.cfg).eval()
    prompt = torch.randint(shape.cfg.vocab_size, (1, prompt_tokens), generator=torch.Generator().manual_seed(0))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{shape.description}: {model.num_params():,} parameters, n_layers={shape.cfg.n_layers}, "
          f"d_model={shape.cfg.d_model}, vocab_size={shape.cfg.vocab_size:,}, random weights")
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), load average {load:.2f}")
    print(f"prompt {prompt_tokens} tokens + {new_tokens} new tokens, greedy, best of {args.repeats}")
    uncached, ids_uncached = best_rate(model, prompt, new_tokens, False, args.repeats)
    cached, ids_cached = best_rate(model, prompt, new_tokens, True, args.repeats)
    if not torch.equal(ids_cached, ids_uncached):
        raise SystemExit("cached and uncached greedy generation differ: the KV cache is broken")
    print(f"  without KV cache: {uncached:8.1f} tokens/s")
    print(f"  with KV cache:    {cached:8.1f} tokens/s")
    print(f"  speed-up:         {cached / uncached:8.1f}x (same tokens: yes)")


if __name__ == "__main__":
    main()
