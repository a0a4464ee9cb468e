"""Generation speed of a GPT-2 124M-shaped model on the CPU, with and without the KV cache.

    python bench/gpt2_generation_speed.py [--new-tokens 64] [--prompt-tokens 32] [--threads N]

The weights are random (GPT(GPTConfig.gpt2()) with its own initialisation): the
speed of a forward pass does not depend on the values of the weights, so nothing
is downloaded. Both loops use greedy decoding, so they must produce the same
tokens (checked: the prompt plus new tokens fit in the context window). Prints
tokens per second; a figure to read, not a test.

On a machine shared with other busy processes, pass ``--threads 1``: PyTorch's
OpenMP threads otherwise spin waiting for each other and the figures drop by
an order of magnitude.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from shared import set_seed  # noqa: E402
from shared.generation import generate  # noqa: E402
from shared.model import GPT, GPTConfig  # noqa: E402


def tokens_per_second(model, prompt, new_tokens, use_cache):
    generate(model, prompt, 2, greedy=True, use_cache=use_cache)  # warm-up
    start = time.perf_counter()
    out = generate(model, prompt, new_tokens, greedy=True, use_cache=use_cache)
    seconds = time.perf_counter() - start
    return out, new_tokens / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    set_seed(0)
    model = GPT(GPTConfig.gpt2()).eval()
    prompt = torch.randint(0, model.cfg.vocab_size, (1, args.prompt_tokens),
                           generator=torch.Generator().manual_seed(0))
    assert args.prompt_tokens + args.new_tokens <= model.cfg.context_length

    print(f"GPT-2 124M shape ({model.num_params():,} parameters), random weights, greedy decoding")
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"torch {torch.__version__} using {torch.get_num_threads()} threads")
    print(f"prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens")
    results = {}
    for use_cache in (False, True):
        out, rate, seconds = tokens_per_second(model, prompt, args.new_tokens, use_cache)
        results[use_cache] = out
        label = "with KV cache   " if use_cache else "without KV cache"
        print(f"  {label}: {rate:7.1f} tokens/s  ({seconds:.2f} s)")
    assert torch.equal(results[False], results[True]), "cached and uncached greedy outputs differ"
    print("  same tokens with and without the cache: yes")


if __name__ == "__main__":
    main()
