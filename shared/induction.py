"""The repeated-random-tokens test for induction heads (Olsson et al., 2022), used in Chapters 8 and 9.

    ids = repeated_random_tokens(n_tokens=8, vocab_size=2355, batch=256, generator=g)  # (B, 2n)
    scores = induction_scores(all_attention_weights(model, ids), n_tokens=8)           # (n_layers, n_heads)
    first, second = half_losses(model(ids)[0], ids, n_tokens=8)                        # nats per token

On ordinary text a head that attends to "the token after an earlier copy of the current
token" cannot be told from a previous-token head: after ", X ," the token that followed
the earlier "," is the X just before the current one. Random tokens repeated once remove
that confound: the first half is unpredictable, the second half repeats it, and the
token after the earlier occurrence of position ``i``'s token sits exactly ``n - 1``
positions back (at ``i - n + 1``), far from the previous token. An induction head puts
its weight there, and a model that copies predicts the second half far better than the
first.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.validate import check_generator, check_int, check_type

__all__ = ["repeated_random_tokens", "induction_scores", "previous_token_scores", "per_position_loss",
           "half_losses"]


def repeated_random_tokens(n_tokens: int, vocab_size: int, batch: int = 1,
                           generator: torch.Generator | None = None, *, start_id: int | None = None
                           ) -> torch.Tensor:
    """``batch`` rows of ``n_tokens`` random ids from ``0..vocab_size - 1``, each row followed by
    itself: a ``torch.long`` tensor of shape ``(batch, 2 * n_tokens)``, or ``(batch, 1 + 2 * n_tokens)``
    with ``start_id`` (a token put before each row, such as GPT-2's ``<|endoftext|>``, 50256).

    Pass a seeded ``generator`` (``torch.Generator().manual_seed(0)``) for the same ids on
    every run. To leave out an id such as ``<unk>``, give it the last id and pass
    ``vocab_size`` one smaller (``vocab.unk_id`` for the book model's compact vocabulary).
    """
    check_int(n_tokens, "n_tokens", minimum=2, fix="the test needs at least two tokens to repeat")
    check_int(vocab_size, "vocab_size", minimum=2)
    check_int(batch, "batch", minimum=1)
    check_generator(generator)
    first = torch.randint(vocab_size, (batch, n_tokens), generator=generator)
    rows = [first, first]
    if start_id is not None:
        rows.insert(0, torch.full((batch, 1), check_int(start_id, "start_id", minimum=0)))
    return torch.cat(rows, dim=1)


def _prefix(T: int, n_tokens: int, what: str) -> int:
    """How many positions come before the two copies (0, or 1 with a start token)."""
    check_int(n_tokens, "n_tokens", minimum=2)
    if T < 2 * n_tokens:
        raise ValueError(f"{what} covers T={T} positions, but repeated random tokens with n_tokens={n_tokens} "
                         f"need T >= 2 * n_tokens = {2 * n_tokens}; pass the n_tokens the ids were made with")
    return T - 2 * n_tokens


def _check_attention(attention: object) -> torch.Tensor:
    check_type(attention, "attention", torch.Tensor,
               fix="pass the weights from shared.model.all_attention_weights(model, ids)")
    if not attention.is_floating_point() or attention.dim() != 5 or attention.shape[-1] != attention.shape[-2]:
        raise ValueError("attention must be a floating-point tensor of shape (B, n_layers, n_heads, T, T), "
                         f"as shared.model.all_attention_weights returns, got {tuple(attention.shape)} "
                         f"of dtype {attention.dtype}; for one sequence add a batch dimension: attention[None]")
    return attention


def _offset_scores(attention: torch.Tensor, offset: int, start: int) -> torch.Tensor:
    """Mean weight from each query ``i >= start`` to the key ``i - offset``: ``(n_layers, n_heads)``."""
    T = attention.shape[-1]
    queries = torch.arange(start, T)
    return attention[..., queries, queries - offset].mean(dim=(0, -1))


def induction_scores(attention: torch.Tensor, n_tokens: int) -> torch.Tensor:
    """The induction score of every head: ``(n_layers, n_heads)``, each in ``[0, 1]``.

    ``attention``: the weights of every block and head on repeated random tokens, shape
    ``(B, n_layers, n_heads, T, T)`` (what
    ``shared.model.all_attention_weights(model, repeated_random_tokens(n_tokens, ...))``
    returns; row ``i`` is what query ``i`` attends to), where the last ``2 * n_tokens``
    positions are the two copies and any before them a prefix (a start token). The score of
    a head is its weight from each query ``i`` of the second copy to key ``i - n_tokens + 1``,
    the token that followed the earlier occurrence of token ``i``, averaged over those
    queries and the batch. A perfect induction head scores 1; uniform attention scores the
    mean of ``1 / (i + 1)``; a previous-token head scores about 0.
    """
    attention = _check_attention(attention)
    p = _prefix(attention.shape[-1], n_tokens, "attention")
    return _offset_scores(attention, offset=n_tokens - 1, start=p + n_tokens)


def previous_token_scores(attention: torch.Tensor) -> torch.Tensor:
    """Each head's mean weight from query ``i`` to key ``i - 1`` (over ``i >= 1`` and the batch):
    ``(n_layers, n_heads)``. ``attention`` has shape ``(B, n_layers, n_heads, T, T)``."""
    attention = _check_attention(attention)
    if attention.shape[-1] < 2:
        raise ValueError("attention must cover at least 2 positions to have a previous token")
    return _offset_scores(attention, offset=1, start=1)


def per_position_loss(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (nats) of predicting ``ids[:, t + 1]`` from position ``t``, averaged over the
    batch: shape ``(T - 1,)``. ``logits`` ``(B, T, vocab_size)``, ``ids`` ``(B, T)``."""
    check_type(logits, "logits", torch.Tensor)
    check_type(ids, "ids", torch.Tensor)
    if not logits.is_floating_point() or logits.dim() != 3:
        raise ValueError(f"logits must be a floating-point tensor of shape (B, T, vocab_size), "
                         f"got {tuple(logits.shape)} of dtype {logits.dtype}")
    if ids.dim() != 2 or ids.shape != logits.shape[:2] or ids.shape[1] < 2:
        raise ValueError(f"ids must have shape (B, T) = {tuple(logits.shape[:2])} like logits, with T >= 2, "
                         f"got {tuple(ids.shape)}")
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2).float(), ids[:, 1:].long(), reduction="none")
    return losses.mean(dim=0)


def half_losses(logits: torch.Tensor, ids: torch.Tensor, n_tokens: int) -> tuple[float, float]:
    """Mean loss (nats per token) on the first copy and on the second copy of repeated random tokens.

    Counting positions within the copies (a start token before them is skipped), the first
    copy's targets are its tokens ``1..n - 1`` (random: nothing to predict them from); the
    second copy's are its tokens ``1..n - 1``, each the repeat of an earlier token whose
    successor the model has already seen. The first token of each copy is left out: nothing
    predicts it (nor announces that the sequence is about to repeat).
    """
    losses = per_position_loss(logits, ids)  # entry t scores the token at position t + 1
    p = _prefix(ids.shape[1], n_tokens, "ids")
    return losses[p:p + n_tokens - 1].mean().item(), losses[p + n_tokens:].mean().item()
