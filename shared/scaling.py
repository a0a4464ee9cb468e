"""What training a model costs, measured (Chapter 10): FLOPs, memory, time per step.

    training_flops(n_params, n_tokens)          # 6 N D, the rule of thumb of Kaplan et al. (2020)
    count_flops(model, x, y)                    # the multiply-adds PyTorch really runs, forward + backward
    model_state_bytes(model, optimizer)         # bytes of weights, gradients and AdamW state, measured
    time_steps(model, x, y, steps=3)            # seconds per training step, on any device, fp32 or bf16

**Why 6.** A linear layer with a weight of ``n_in x n_out`` numbers does ``n_in * n_out``
multiply-adds per token, 2 FLOPs each, in the forward pass; the backward pass does twice
that (the gradient of the input and the gradient of the weight). So every weight that
multiplies something costs ``2 + 4 = 6`` FLOPs per token of training. Embedding lookups
cost nothing; the attention scores between positions (``12 * n_layers * T * d_model`` per
token, forward and backward) are left out of the rule. PyTorch's counter sees them when
attention runs as plain matrix products (on a CPU: with dropout, in training), not in the
fused CPU attention kernel, which has no FLOP formula.

**Why 16 bytes.** In fp32 every parameter needs 4 bytes of weight, 4 of gradient and 8 of
AdamW state (the two running averages ``m`` and ``v``).
"""

from __future__ import annotations

import time
from contextlib import nullcontext

import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

__all__ = [
    "BYTES_PER_PARAM",
    "training_flops",
    "matmul_params",
    "count_flops",
    "model_state_bytes",
    "time_steps",
    "format_duration",
]

BYTES_PER_PARAM = {"weights": 4, "gradients": 4, "AdamW state": 8}  #: fp32 training, per parameter


def training_flops(n_params: int, n_tokens: int) -> int:
    """The compute of training a model of ``n_params`` parameters on ``n_tokens`` tokens:
    ``6 * n_params * n_tokens`` FLOPs (2 forward, 4 backward, per parameter and token)."""
    for name, value in (("n_params", n_params), ("n_tokens", n_tokens)):
        if not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return 6 * n_params * n_tokens


def matmul_params(model: nn.Module) -> int:
    """How many parameters multiply something: the weights of the ``nn.Linear`` layers
    (the output layer included, once, even when it shares its matrix with the embedding)."""
    weights = {id(m.weight): m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)}
    return sum(weights.values())


def count_flops(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """FLOPs of one forward and backward pass of ``model(x, y)``, as PyTorch's
    ``FlopCounterMode`` counts them (matrix multiplications, 2 FLOPs per multiply-add).
    Leaves the gradients in the parameters."""
    if x.shape != y.shape or x.dim() != 2:
        raise ValueError(f"x and y must both be (B, T) token ids, got {tuple(x.shape)} and {tuple(y.shape)}")
    model.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as counter:
        _, loss = model(x, y)
        loss.backward()
    return counter.get_total_flops()


def model_state_bytes(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict[str, int]:
    """Bytes this process holds of the weights, the gradients and the optimizer state.

    Sharded parameters (FSDP's ``DTensor``) count their local shard only, so under
    sharding this is the memory *per rank*. A shared (tied) tensor counts once.
    """
    def local(t: torch.Tensor) -> torch.Tensor:
        return t.to_local() if hasattr(t, "to_local") else t

    params = {id(p): p for p in model.parameters()}.values()
    out = {"weights": sum(local(p).nbytes for p in params),
           "gradients": sum(local(p.grad).nbytes for p in params if p.grad is not None),
           "AdamW state": 0}
    if optimizer is not None:
        out["AdamW state"] = sum(local(v).nbytes for state in optimizer.state.values()
                                 for v in state.values() if isinstance(v, torch.Tensor))
    return out


def time_steps(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, steps: int = 3, warmup: int = 1,
               dtype: torch.dtype | None = None, lr: float = 1e-3) -> tuple[float, list[float]]:
    """Train ``model`` for ``warmup + steps`` AdamW steps on the batch ``(x, y)``, on the
    device the model is on; return the mean seconds of the last ``steps`` steps and every loss.

    ``dtype=torch.bfloat16`` runs forward and backward under autocast (mixed precision:
    the weights, gradients and optimizer stay fp32; matrix multiplications run in bf16).
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps}, warmup={warmup}")
    if dtype not in (None, torch.bfloat16, torch.float16):
        raise ValueError(f"dtype must be None (fp32), torch.bfloat16 or torch.float16, got {dtype}")
    device = next(model.parameters()).device
    x, y = x.to(device), y.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    autocast = torch.autocast(device.type, dtype=dtype) if dtype is not None else nullcontext()
    losses, start = [], 0.0
    for i in range(warmup + steps):
        if i == warmup:
            _synchronize(device)
            start = time.perf_counter()
        with autocast:
            _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())  # .item() waits for the device
    _synchronize(device)
    return (time.perf_counter() - start) / steps, losses


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def format_duration(seconds: float) -> str:
    """A duration in the largest unit that keeps it at least 1: ``'3.2 days'``, ``'1.9 years'``."""
    if seconds < 0:
        raise ValueError(f"seconds must be non-negative, got {seconds}")
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} seconds"
