"""A decoder-only Transformer (GPT), as built in Chapters 2-6.

Notation: ``B`` batch size, ``T`` sequence length, ``C = d_model`` channels, the names
of Karpathy's nanoGPT; ``n_heads`` heads of ``d_head = d_model // n_heads`` channels.
"Attention Is All You Need" writes n, d_model, h and d_k for T, d_model, n_heads, d_head.

One class covers both the small model trained in Chapter 7 and OpenAI's GPT-2
(Chapter 9): the differences are switches in :class:`GPTConfig`.

    GPT(GPTConfig())                       # the book's small model
    GPT(GPTConfig.gpt2())                  # GPT-2 124M: learned positions, GELU, tied weights
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import torch
import torch.nn as nn
import torch.nn.functional as F

from .validate import check_bool, check_choice, check_int, check_number, check_token_ids, check_type

__all__ = [
    "GPTConfig",
    "sinusoidal_positions",
    "MultiHeadAttention",
    "FeedForward",
    "Block",
    "KVCache",
    "GPT",
    "all_attention_weights",
]


@dataclass(frozen=True)
class GPTConfig:
    """Every shape and switch of the model.

    The defaults are the original course's shape (``d_model`` 64, 8 blocks of 4 heads,
    ``context_length`` 16, sinusoidal positions, ReLU, dropout 0.1, untied) over GPT-2's
    50,257 tokens; the course itself read ``cl100k_base`` tokens through 100,070 outputs
    (``bench/course.py`` re-implements it exactly). :meth:`gpt2` gives
    the shape of OpenAI's GPT-2 124M. Frozen: make a variant with
    ``dataclasses.replace(cfg, n_layers=4)``.
    """

    vocab_size: int = 50257
    context_length: int = 16
    d_model: int = 64
    n_heads: int = 4
    n_layers: int = 8
    d_ff: int | None = None  # feed-forward width; None means 4 * d_model
    dropout: float = 0.1
    pos_embedding: Literal["sinusoidal", "learned"] = "sinusoidal"
    activation: Literal["relu", "gelu"] = "relu"  # "gelu" is GPT-2's tanh approximation
    bias: bool = True
    tie_weights: bool = False  # share the token embedding with the output layer
    causal: bool = True  # False only to show, in Chapter 5, what goes wrong without the mask
    ln_eps: float = 1e-5

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context_length", "d_model", "n_heads", "n_layers"):
            check_int(getattr(self, name), name, minimum=1)
        if self.d_ff is not None:
            check_int(self.d_ff, "d_ff", minimum=1, fix="or None for 4 * d_model")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model={self.d_model} must be divisible by n_heads={self.n_heads}"
            )
        check_number(self.dropout, "dropout", 0.0, 1.0, high_open=True,
                     fix="it is the probability of zeroing an activation (0.1 is usual, 0 for none)")
        check_choice(self.pos_embedding, "pos_embedding", ("sinusoidal", "learned"))
        check_choice(self.activation, "activation", ("relu", "gelu"))
        for name in ("bias", "tie_weights", "causal"):
            check_bool(getattr(self, name), name)
        check_number(self.ln_eps, "ln_eps", 0.0, low_open=True)
        if self.pos_embedding == "sinusoidal" and self.d_model % 2:
            raise ValueError(f"d_model must be even for sinusoidal positions, got {self.d_model}; "
                             "use an even d_model or pos_embedding='learned'")

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_heads

    @property
    def ff_width(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.d_model

    @classmethod
    def gpt2(cls, **overrides) -> GPTConfig:
        """The shape of OpenAI's GPT-2 "small" (124M parameters)."""
        settings = dict(
            vocab_size=50257, context_length=1024, d_model=768, n_heads=12, n_layers=12,
            dropout=0.0, pos_embedding="learned", activation="gelu", bias=True,
            tie_weights=True, ln_eps=1e-5,
        )
        settings.update(overrides)
        return cls(**settings)

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoidal_positions(context_length: int, d_model: int) -> torch.Tensor:
    """The sinusoidal position table of Vaswani et al. (2017), shape ``(context_length, d_model)``.

    ``PE[pos, 2i] = sin(pos / 10000^(2i / d_model))`` and
    ``PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))``.
    """
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}")
    pos = torch.arange(context_length, dtype=torch.float32)[:, None]  # (T, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float32)  # (C/2,)
    angle = pos / (10000.0 ** (two_i / d_model))  # (T, C/2)
    table = torch.zeros(context_length, d_model)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle)
    return table


@dataclass
class KVCache:
    """Keys and values already computed for the tokens seen so far, one pair per block.

    Generation feeds the model one new token at a time; with a cache each block
    computes the query, key and value of the new token only, and attends over the
    stored keys and values. ``keys[i]`` and ``values[i]`` have shape
    ``(B, n_heads, length, d_head)``.
    """

    keys: list[torch.Tensor | None] = field(default_factory=list)
    values: list[torch.Tensor | None] = field(default_factory=list)

    @property
    def length(self) -> int:
        """How many tokens the cache holds."""
        return 0 if not self.keys or self.keys[0] is None else self.keys[0].shape[2]


class MultiHeadAttention(nn.Module):
    """Causal multi-head self-attention with all heads in one fused projection.

    ``qkv`` maps ``(B, T, C)`` to queries, keys and values for every head at once;
    ``proj`` mixes the concatenated heads back to ``C`` channels.
    """

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_heads, self.d_head, self.causal = cfg.n_heads, cfg.d_head, cfg.causal
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=cfg.bias)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=cfg.bias)
        self.dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def split_heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(B, T, C)`` -> queries, keys, values, each ``(B, n_heads, T, d_head)``."""
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return tuple(t.view(B, T, self.n_heads, self.d_head).transpose(1, 2) for t in (q, k, v))

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.split_heads(x)
        mask, is_causal = None, self.causal and T > 1
        if cache is not None:
            past = 0 if cache.keys[layer] is None else cache.keys[layer].shape[2]
            if past:
                k = torch.cat([cache.keys[layer], k], dim=2)
                v = torch.cat([cache.values[layer], v], dim=2)
                if T > 1 and self.causal:  # new query t may see every cached key and new keys up to itself
                    mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
                is_causal = False
            cache.keys[layer], cache.values[layer] = k, v
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal,
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, n_heads, T, d_head)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # concatenate the heads
        return self.resid_dropout(self.proj(y))

    @torch.no_grad()
    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The softmax attention weights, ``(B, n_heads, T, T)``, for plotting."""
        q, k, _ = self.split_heads(x)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)
        if self.causal:
            T = x.shape[1]
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        return scores.softmax(dim=-1)


class FeedForward(nn.Module):
    """The position-wise feed-forward network: widen, non-linearity, narrow."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.fc = nn.Linear(cfg.d_model, cfg.ff_width, bias=cfg.bias)
        self.act = nn.ReLU() if cfg.activation == "relu" else nn.GELU(approximate="tanh")
        self.proj = nn.Linear(cfg.ff_width, cfg.d_model, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    """One Transformer block, pre-norm: ``x + attn(ln1(x))``, then ``x + ffn(ln2(x))``."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model, eps=cfg.ln_eps, bias=cfg.bias)
        self.attn = MultiHeadAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model, eps=cfg.ln_eps, bias=cfg.bias)
        self.ffn = FeedForward(cfg)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), cache, layer)
        return x + self.ffn(self.ln2(x))


class GPT(nn.Module):
    """Token embedding + positions -> ``n_layers`` blocks -> final norm -> linear head."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.cfg = check_type(cfg, "cfg", GPTConfig, fix="build one with GPTConfig(...), e.g. GPTConfig(**settings)")
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        if cfg.pos_embedding == "learned":
            self.pos_emb = nn.Embedding(cfg.context_length, cfg.d_model)
        else:
            self.register_buffer(
                "pos_table", sinusoidal_positions(cfg.context_length, cfg.d_model), persistent=False
            )
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model, eps=cfg.ln_eps, bias=cfg.bias)
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        if cfg.tie_weights:
            self.head.weight = self.tok_emb.weight
        self.apply(self._init_weights)
        # GPT-2's scaled initialisation of the layers that write into the residual stream.
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        """Number of distinct parameters (a tied matrix counts once)."""
        return sum(p.numel() for p in self.parameters())

    def positions(self, start: int, T: int, device) -> torch.Tensor:
        """Position vectors for positions ``start .. start + T - 1``, shape ``(T, C)``."""
        if self.cfg.pos_embedding == "learned":
            return self.pos_emb(torch.arange(start, start + T, device=device))
        return self.pos_table[start:start + T]

    def _check_input(self, idx, targets, cache) -> int:
        """Refuse what the forward pass cannot use, with a message that says why; return the
        position of the first new token (``cache.length``, or 0). A few comparisons and one
        min/max over the ids: nothing next to the forward pass itself. (Ids on another device
        than the model are caught where the embedding fails, at no cost to a correct call.)"""
        check_token_ids(idx, "idx", self.cfg.vocab_size)
        if targets is not None:
            check_token_ids(targets, "targets", self.cfg.vocab_size)
            if targets.shape != idx.shape:
                raise ValueError(f"targets must have the shape of idx, {tuple(idx.shape)}, got "
                                 f"{tuple(targets.shape)}: targets[b, t] is the token that follows idx[b, :t + 1]")
        if cache is not None and not isinstance(cache, KVCache):
            raise TypeError(f"cache must be None or a shared.model.KVCache, got {type(cache).__name__}")
        start = 0 if cache is None else cache.length
        if start + idx.shape[1] > self.cfg.context_length:
            raise ValueError(
                f"idx: a sequence of {start + idx.shape[1]} tokens is longer than context_length="
                f"{self.cfg.context_length}; crop the input to its last "
                f"{self.cfg.context_length} tokens (shared.generation does this for you)"
            )
        if cache is None:
            return 0
        if cache.keys and len(cache.keys) != self.cfg.n_layers:
            raise ValueError(f"this cache holds {len(cache.keys)} blocks' keys but the model has "
                             f"{self.cfg.n_layers} blocks: it belongs to another model; start a new KVCache()")
        if start and cache.keys[0].shape[0] != idx.shape[0]:
            raise ValueError(f"this cache holds {cache.keys[0].shape[0]} sequences but idx has "
                             f"{idx.shape[0]} rows: continue each cached batch with one new row per sequence")
        return start

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``idx`` ``(B, T)`` token ids -> logits ``(B, T, vocab_size)`` and, given
        ``targets`` ``(B, T)``, the mean cross-entropy loss.

        With a ``cache``, ``idx`` holds only the new tokens: they are placed after
        the ``cache.length`` tokens already seen, and the cache is extended.
        """
        start = self._check_input(idx, targets, cache)
        B, T = idx.shape
        if cache is not None and not cache.keys:
            cache.keys = [None] * len(self.blocks)
            cache.values = [None] * len(self.blocks)
        try:
            tokens = self.tok_emb(idx)  # (B, T, C)
        except RuntimeError:  # checked here, on failure only: the common case pays nothing
            if idx.device != self.tok_emb.weight.device:
                raise ValueError(f"idx is on {idx.device} but the model is on {self.tok_emb.weight.device}: "
                                 f"move the ids with idx.to({str(self.tok_emb.weight.device)!r})") from None
            raise
        x = self.drop(tokens + self.positions(start, T, idx.device))  # (B, T, C)
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        logits = self.head(self.ln_f(x))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, loss


@torch.no_grad()
def all_attention_weights(model: GPT, idx: torch.Tensor) -> torch.Tensor:
    """The attention weights of every block and head: ``(B, n_layers, n_heads, T, T)``.

    ``idx`` ``(B, T)`` token ids. Runs the model as its forward pass does (embedding plus
    positions, then block after block) and records, in each block, the softmax weights
    of :meth:`MultiHeadAttention.attention_weights` on that block's normalised input;
    row ``t`` of a ``(T, T)`` map is what query ``t`` attends to. Chapter 6 writes this
    inline for the untrained model and Chapter 8 uses it on the trained one. The model
    must be in eval mode (dropout would change the maps).
    """
    model._check_input(idx, None, None)
    if model.training:
        raise ValueError("call model.eval() first: dropout would change the attention weights")
    h = model.tok_emb(idx) + model.positions(0, idx.shape[1], idx.device)  # (B, T, C)
    weights = []
    for block in model.blocks:
        weights.append(block.attn.attention_weights(block.ln1(h)))  # (B, n_heads, T, T)
        h = block(h)
    return torch.stack(weights, dim=1)
