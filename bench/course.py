"""The original course's program, re-implemented faithfully: the baseline of ``bench/train_speed.py``.

Written by us from the course's published settings; where the book's own code differs,
this file follows the course. Every setting:

* **Tokenizer**: tiktoken's ``cl100k_base`` (77,919 tokens on the corpus, largest id 100,069),
  here from the ``bpe-openai`` package, which ships its ranks inside its wheel
  (``"hello world"`` -> ``[15339, 1917]``). A benchmark-only dependency (requirements.txt).
* **Vocabulary**: an embedding table of ``max_id + 2`` rows; an output layer
  ``nn.Linear(64, max_id + 1)`` (100,070 outputs) *with* bias, not tied to the embedding.
* **Shape**: ``d_model`` 64, 8 blocks, 4 heads of ``d_head`` 16, ``context_length`` 16.
* **Positions**: sinusoidal (base 10000), added to the token embeddings with no scaling.
* **Initialisation**: PyTorch's defaults for every layer, so the embeddings start at N(0, 1).
* **Block** (pre-norm): ``x + MHA(LN(x))``, then ``x + FFN(LN(x))``. Attention: per head,
  q, k and v are ``Linear(64, 16)`` *without* bias; scores scaled by 1/sqrt(16), masked
  causally, softmaxed, dropout 0.1 on the weights; the heads concatenated, projected by
  ``Linear(64, 64)`` *with* bias, then dropout 0.1. FFN: ``Linear(64, 256)`` -> ReLU ->
  ``Linear(256, 64)`` -> dropout 0.1. A final LayerNorm after the blocks.
* **Size**: 13,307,558 parameters on this corpus.
* **Training**: ``torch.manual_seed(1337)``; ``AdamW(lr=1e-3)`` with PyTorch's defaults
  (betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on *every* parameter); no schedule, no
  clipping; 5,000 steps of batch 4 x 16 tokens from the first 90% of its own token
  sequence; every 20 steps (and at the last) it estimates the loss on 20 random batches
  per split, drawing them from the same random-number generator as its training batches.

What this file adds, without changing the run: a clock around the training steps only
(batch, forward, backward, update), and, every ``score_every`` steps, the model's bits per
byte on the book's scored text (:func:`shared.book.scored_text`), which draws no random numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import cache

import torch
import torch.nn as nn
import torch.nn.functional as F

from shared.book import scored_text
from shared.data import load_corpus
from shared.evaluation import bits_per_byte

SEED = 1337
D_MODEL, N_BLOCKS, N_HEADS, CONTEXT_LENGTH, DROPOUT = 64, 8, 4, 16, 0.1
BATCH_SIZE, LR, STEPS, EVAL_INTERVAL, EVAL_ITERS = 4, 1e-3, 5000, 20, 20


@cache
def course_encoding():
    """tiktoken-compatible ``cl100k_base`` from the ``bpe-openai`` wheel (no download)."""
    import bpe_openai

    return bpe_openai.get_encoding("cl100k_base")


def course_tokens() -> torch.Tensor:
    """The corpus in the course's tokens."""
    return torch.tensor(course_encoding().encode(load_corpus()), dtype=torch.long)


class Head(nn.Module):
    """One head of causal self-attention: q, k, v without bias."""

    def __init__(self, d_head: int):
        super().__init__()
        self.q = nn.Linear(D_MODEL, d_head, bias=False)
        self.k = nn.Linear(D_MODEL, d_head, bias=False)
        self.v = nn.Linear(D_MODEL, d_head, bias=False)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT_LENGTH, CONTEXT_LENGTH)))
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(k.shape[-1])
        scores = scores.masked_fill(self.mask[:T, :T] == 0, float("-inf"))
        return self.drop(F.softmax(scores, dim=-1)) @ v


class MultiHeadAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList(Head(D_MODEL // N_HEADS) for _ in range(N_HEADS))
        self.proj = nn.Linear(D_MODEL, D_MODEL)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.proj(torch.cat([h(x) for h in self.heads], dim=-1)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
        self.attn = MultiHeadAttention()
        self.ffn = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.ReLU(), nn.Linear(4 * D_MODEL, D_MODEL),
                                 nn.Dropout(DROPOUT))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))


def sinusoids(T: int, d: int) -> torch.Tensor:
    """Vaswani et al.'s positions: sin on even channels, cos on odd, base 10000."""
    pos = torch.arange(T, dtype=torch.float).unsqueeze(1)
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2, dtype=torch.float) / d)
    pe = torch.zeros(T, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class CourseModel(nn.Module):
    """The course's GPT over ``max_id + 1`` outputs."""

    def __init__(self, max_id: int):
        super().__init__()
        self.tok_emb = nn.Embedding(max_id + 2, D_MODEL)
        self.register_buffer("pos", sinusoids(CONTEXT_LENGTH, D_MODEL))
        self.blocks = nn.Sequential(*(Block() for _ in range(N_BLOCKS)))
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, max_id + 1)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        T = idx.shape[1]
        logits = self.head(self.ln_f(self.blocks(self.tok_emb(idx) + self.pos[:T])))
        loss = None if targets is None else F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss

    def last_logits(self, idx: torch.Tensor) -> torch.Tensor:
        """The logits of the last position only, ``(B, max_id + 1)``: for scoring, not in the course."""
        x = self.ln_f(self.blocks(self.tok_emb(idx) + self.pos[:idx.shape[1]]))
        return self.head(x[:, -1])


def course_bits_per_byte(model: CourseModel, part: str = "validation") -> float:
    """Bits per byte of the course's model on the book's scored text, over its 100,070 outputs:
    the text in cl100k tokens, its first tokens given the preceding corpus as context."""
    enc = course_encoding()
    before, text = scored_text(part)
    context = enc.encode(before)[-CONTEXT_LENGTH:]
    ids = torch.tensor(context + enc.encode(text), dtype=torch.long)
    return bits_per_byte(model, ids, len(text.encode("utf-8")), CONTEXT_LENGTH, first=len(context),
                         batch_size=32, last_logits=model.last_logits)


def train_course(steps: int = STEPS, score_every: int = 250, log: Callable[[str], None] = print,
                 clock: Callable[[], float] = time.perf_counter,
                 estimate_forward: bool = False) -> tuple[CourseModel, dict]:
    """Run the course's program; return the model and a record: training seconds (measured
    with ``clock``) and bits per byte every ``score_every`` steps (and at the end).

    The course's loss estimates draw their batches exactly as the course does, so that its
    training batches are the same; their forward passes (80 a step of batch 4 through a
    100,070-way output, only to print a loss) run only with ``estimate_forward``: in eval
    mode they draw no random numbers, so skipping them leaves the run unchanged (a test
    checks that the weights are identical)."""
    torch.manual_seed(SEED)
    tokens = course_tokens()
    split = int(len(tokens) * 0.9)
    data = {"train": tokens[:split], "valid": tokens[split:]}
    model = CourseModel(int(tokens.max()))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)

    def get_batch(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        d = data[name]
        starts = torch.randint(low=0, high=len(d) - CONTEXT_LENGTH, size=(BATCH_SIZE,))
        x = torch.stack([d[i:i + CONTEXT_LENGTH] for i in starts])
        y = torch.stack([d[i + 1:i + CONTEXT_LENGTH + 1] for i in starts])
        return x, y

    @torch.no_grad()
    def estimate_loss() -> dict[str, float]:
        model.eval()
        out = {}
        for name in data:
            batches = [get_batch(name) for _ in range(EVAL_ITERS)]
            out[name] = sum(model(*b)[1].item() for b in batches) / EVAL_ITERS if estimate_forward else None
        model.train()
        return out

    record = {"step": [], "seconds": [], "bpb": [], "course_loss": []}
    seconds = 0.0
    for step in range(steps + 1):
        if step % score_every == 0 or step == steps:
            record["step"].append(step)
            record["seconds"].append(seconds)
            record["bpb"].append(course_bits_per_byte(model))
            log(f"  course step {step:5d}  {seconds:7.1f} s  {record['bpb'][-1]:.4f} bits/byte")
        if step == steps:
            break
        if step % EVAL_INTERVAL == 0 or step == steps - 1:
            record["course_loss"].append((step, estimate_loss()))
        tick = clock()
        xb, yb = get_batch("train")
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seconds += clock() - tick
    return model, record
