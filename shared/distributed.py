"""Training one model on several processes with torch.distributed, as built in Chapter 10.

    python -m torch.distributed.run --standalone --nproc_per_node 2 -m shared.distributed --out DIR
    run_torchrun(["--out", DIR])            # the same from Python; raises with the failing rank's error
    spawn(["--out", DIR], world_size=2)      # the same without torchrun (the tests): a FileStore in DIR

Every rank builds the same model from the same seed and draws the same *global* batch of
``B`` windows; it keeps windows ``rank, rank + world_size, ...`` (:func:`rank_indices`,
``DistributedSampler``'s split). ``--mode ddp`` wraps the model in DistributedDataParallel,
which averages the gradients over the ranks with an all-reduce during ``backward``;
``--mode manual`` does that all-reduce by hand; ``--mode fsdp`` shards every block and the
rest of the model with FSDP2's ``fully_shard``, so each rank keeps only its slice of the
weights, gradients and AdamW state. In every mode all ranks apply the same update, the one
a single process would compute from the whole batch. Rank 0 then writes the full weights,
the last step's gradients (``grad.NAME``) and a JSON summary, each atomically.

Robust by construction: the rendezvous uses a free port (``--standalone``) or a FileStore in
a fresh folder, never a fixed port; every collective has a timeout (``--timeout``, 60 s);
each process uses one thread; a rank that dies makes the whole run fail with its error
(torchrun stops the others; :func:`spawn` does the same), and :func:`run_torchrun` and
:func:`spawn` give up at a deadline instead of waiting for ever.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.elastic.multiprocessing.errors import record
from torch.multiprocessing.spawn import ProcessException

from shared import SEED
from shared.data import atomic_write
from shared.model import GPT, GPTConfig
from shared.scaling import model_state_bytes

__all__ = ["TIMEOUT_S", "MODES", "rank_indices", "check_rank_indices", "demo_config", "global_batch",
           "train_steps", "run", "run_torchrun", "spawn", "load_result"]

TIMEOUT_S = 60  #: seconds any collective (and the rendezvous) may wait before it fails
MODES = ("ddp", "manual", "fsdp")


def rank_indices(n: int, rank: int, world_size: int) -> list[int]:
    """The items ``0 .. n-1`` that ``rank`` of ``world_size`` processes takes, as
    ``DistributedSampler(shuffle=False)`` splits them: the list is padded by repeating its
    start until ``world_size`` divides its length, then rank ``r`` takes every
    ``world_size``-th item from position ``r``. Every rank gets the same number of items,
    so every rank runs the same number of steps (an extra step on one rank would wait
    for ever in an all-reduce that the others never join)."""
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"need world_size >= 1 and 0 <= rank < world_size, got rank={rank}, "
                         f"world_size={world_size}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    per_rank = -(-n // world_size)  # ceil
    padded = [i % n for i in range(per_rank * world_size)]
    return padded[rank::world_size]


def check_rank_indices(fn: Callable[[int, int, int], Sequence[int]]) -> None:
    """Check ``fn(n, rank, world_size) -> list of indices`` against :func:`rank_indices`
    (``DistributedSampler``'s split) on several cases: prints one line when all agree,
    raises ``AssertionError`` naming the first case that does not."""
    cases = [(8, 2), (10, 4), (3, 4), (7, 1), (1, 3), (13, 5)]
    for n, world_size in cases:
        for rank in range(world_size):
            case = f"n={n}, rank={rank}, world_size={world_size}"
            try:
                got = fn(n, rank, world_size)
            except Exception as err:  # noqa: BLE001 - any failure of the reader's code is reported
                raise AssertionError(f"check_rank_indices: on {case}, your function raised "
                                     f"{type(err).__name__}: {err}") from err
            want = rank_indices(n, rank, world_size)
            if [int(i) for i in got] != want:
                raise AssertionError(f"check_rank_indices: on {case}, expected {want}, got {list(got)}"
                                     + (" (every rank must get the same number of items)"
                                        if len(got) != len(want) else ""))
    print(f"check_rank_indices: passed ({sum(w for _, w in cases)} cases)\n", end="", flush=True)


def demo_config(vocab_size: int) -> GPTConfig:
    """The book model's shape (Chapter 7) without dropout: dropout draws different random
    masks on each rank, and the comparisons of this chapter want the same arithmetic."""
    return GPTConfig(vocab_size=vocab_size, context_length=16, d_model=64, n_heads=4, n_layers=2,
                     dropout=0.0, pos_embedding="learned", tie_weights=True)


def global_batch(tokens: torch.Tensor, step: int, batch_size: int, context_length: int,
                 seed: int = SEED) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch number ``step`` of the whole run, ``(B, T)`` inputs and targets: the same on
    every rank (seeded by ``seed`` and ``step``), so the ranks only have to agree on the split."""
    generator = torch.Generator().manual_seed(seed * 100_003 + step)
    starts = torch.randint(len(tokens) - context_length, (batch_size,), generator=generator)
    window = starts[:, None] + torch.arange(context_length)
    return tokens[window], tokens[window + 1]


def train_steps(model: torch.nn.Module, optimizer: torch.optim.Optimizer, tokens: torch.Tensor, *,
                steps: int, batch_size: int, context_length: int, rank: int = 0, world_size: int = 1,
                accumulate: int = 1, manual_all_reduce: bool = False) -> list[float]:
    """``steps`` optimizer updates; return the mean loss of each step's whole global batch.

    At each step this rank takes its windows of the global batch and splits them into
    ``accumulate`` micro-batches; each micro-batch's loss is divided by ``accumulate``
    before ``backward`` so that the gradients add up to the mean over all of this rank's
    windows (gradient accumulation). A DDP model averages the gradients over the ranks
    in ``backward`` (only after the last micro-batch: ``no_sync`` skips the others);
    ``manual_all_reduce=True`` does that average by hand, one all-reduce per parameter.
    """
    if batch_size % (world_size * accumulate):
        raise ValueError(f"batch_size={batch_size} must be divisible by world_size * accumulate = "
                         f"{world_size} * {accumulate}: every micro-batch must be the same size")
    mine = torch.tensor(rank_indices(batch_size, rank, world_size))
    losses = []
    for step in range(steps):
        x, y = global_batch(tokens, step, batch_size, context_length)
        x, y = x[mine], y[mine]  # (B / world_size, T): this rank's windows
        optimizer.zero_grad(set_to_none=True)
        total = torch.zeros(())
        for i, (xb, yb) in enumerate(zip(x.chunk(accumulate), y.chunk(accumulate), strict=True)):
            last = i == accumulate - 1
            skip_sync = getattr(model, "no_sync", None) if not last else None
            with skip_sync() if skip_sync else nullcontext():
                _, loss = model(xb, yb)
                (loss / accumulate).backward()
            total += loss.detach() / accumulate
        if manual_all_reduce and world_size > 1:
            for p in model.parameters():
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # every rank now holds the sum ...
                p.grad /= world_size  # ... and divides it: the mean over all ranks' windows
        optimizer.step()
        if world_size > 1:
            dist.all_reduce(total, op=dist.ReduceOp.SUM)
        losses.append(total.item() / world_size)
    return losses


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m shared.distributed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the weights and the summary")
    parser.add_argument("--mode", choices=MODES, default="ddp")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16, help="windows per global batch (B)")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--tokens", type=Path, help="a torch.save'd 1-D tensor of token ids "
                        "(default: 20,000 seeded random ids below --vocab-size)")
    parser.add_argument("--vocab-size", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds a collective may wait")
    parser.add_argument("--fail-rank", type=int, help="this rank fails after its first step (to see how a run fails)")
    parser.add_argument("--fail-how", choices=("raise", "kill", "hang"), default="raise")
    return parser.parse_args(argv)


def _init(rank: int | None, world_size: int | None, store_dir: Path | None, timeout_s: float) -> tuple[int, int]:
    """Join the process group: from torchrun's environment, or through a FileStore."""
    torch.set_num_threads(1)  # one thread per process: the processes already fill the cores
    timeout = datetime.timedelta(seconds=timeout_s)
    if store_dir is None:  # torchrun set RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
        dist.init_process_group("gloo", timeout=timeout)
    else:
        store = dist.FileStore(str(store_dir / "store"), world_size)
        dist.init_process_group("gloo", store=store, rank=rank, world_size=world_size, timeout=timeout)
    return dist.get_rank(), dist.get_world_size()


def run(argv: Sequence[str] | None = None, rank: int | None = None, world_size: int | None = None,
        store_dir: Path | None = None) -> None:
    """One rank's whole run (see the module docstring); ``rank``, ``world_size`` and
    ``store_dir`` are given by :func:`spawn`, and read from the environment under torchrun."""
    args = _arguments(argv)
    rank, world_size = _init(rank, world_size, store_dir, args.timeout)
    try:
        if args.tokens is not None:
            tokens = torch.load(args.tokens, weights_only=True)
        else:
            tokens = torch.randint(args.vocab_size, (20_000,), generator=torch.Generator().manual_seed(SEED))
        torch.manual_seed(SEED)  # the same initial weights on every rank
        model = GPT(demo_config(args.vocab_size))
        if args.mode == "ddp":
            model = torch.nn.parallel.DistributedDataParallel(model)
        elif args.mode == "fsdp":
            from torch.distributed.fsdp import fully_shard

            for block in model.blocks:
                fully_shard(block)  # each block gathers its full weights only while it runs
            fully_shard(model)  # the embeddings, the final norm and the (tied) output layer
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.1)
        start = time.perf_counter()
        if args.fail_rank is not None:
            losses = train_steps(model, optimizer, tokens, steps=1, batch_size=args.batch_size,
                                 context_length=16, rank=rank, world_size=world_size)
            if rank == args.fail_rank:
                _fail(rank, args.fail_how)
        losses = train_steps(model, optimizer, tokens, steps=args.steps, batch_size=args.batch_size,
                             context_length=16, rank=rank, world_size=world_size,
                             manual_all_reduce=args.mode == "manual")
        seconds = time.perf_counter() - start
        memory = model_state_bytes(model, optimizer)
        every_memory = [None] * world_size
        dist.all_gather_object(every_memory, memory)  # a collective: every rank takes part
        state = _full_state(model.module if args.mode == "ddp" else model)
        if rank == 0:
            args.out.mkdir(parents=True, exist_ok=True)
            atomic_write(args.out / "weights.pt", lambda f: torch.save(state, f))
            summary = {"mode": args.mode, "world_size": world_size, "steps": args.steps,
                       "batch_size": args.batch_size, "losses": losses, "seconds": seconds,
                       "memory_per_rank": every_memory, "threads": torch.get_num_threads()}
            atomic_write(args.out / "summary.json", lambda f: f.write(json.dumps(summary, indent=1).encode()))
        dist.barrier()  # nobody leaves before rank 0 has written
    finally:
        dist.destroy_process_group()


def _full_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The full weights and last gradients, gathered from the shards under FSDP (a
    collective, so every rank calls it, in the same order)."""
    def full(t: torch.Tensor) -> torch.Tensor:
        return (t.full_tensor() if hasattr(t, "full_tensor") else t).detach().clone()

    state = {name: full(p) for name, p in model.named_parameters()}
    state.update({f"grad.{name}": full(p.grad) for name, p in model.named_parameters()})
    return state


def _fail(rank: int, how: str) -> None:
    if how == "raise":
        raise RuntimeError(f"rank {rank} failed on purpose (--fail-rank {rank})")
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)  # dies at once, as after running out of memory
    time.sleep(10 * TIMEOUT_S)  # "hang": never joins the next collective


@record  # torchrun prints this rank's traceback in its error summary
def main(argv: Sequence[str] | None = None) -> None:
    run(argv)


def _spawned(rank: int, world_size: int, store_dir: str, argv: list[str]) -> None:
    run(argv, rank, world_size, Path(store_dir))


def spawn(argv: Sequence[str], world_size: int = 2, deadline_s: float = 2 * TIMEOUT_S) -> dict:
    """Run :func:`run` on ``world_size`` fresh processes (``spawn``, not ``fork``) that meet
    through a FileStore in a new temporary folder; return the summary rank 0 wrote.

    If a rank raises or dies, the others are stopped and a ``RuntimeError`` names the rank
    and carries its error; if the run is not over after ``deadline_s`` seconds, every rank
    is killed and a ``TimeoutError`` is raised."""
    args = _arguments(argv)
    with tempfile.TemporaryDirectory(prefix="tfs-store-") as store_dir:
        context = mp.start_processes(_spawned, args=(world_size, store_dir, list(argv)), nprocs=world_size,
                                     join=False, start_method="spawn")
        deadline = time.monotonic() + deadline_s
        try:
            while not context.join(timeout=0.5):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the {world_size} ranks did not finish within {deadline_s:.0f} s; "
                                       "all were stopped")
        except ProcessException as err:
            raise RuntimeError(f"rank {err.error_index} of {world_size} failed (the others were stopped): "
                               f"{err}") from None
        finally:
            for process in context.processes:
                if process.is_alive():
                    process.kill()
                process.join(5)
    return load_result(args.out)[0]


def run_torchrun(argv: Sequence[str], nproc: int = 2, deadline_s: float = 3 * TIMEOUT_S) -> dict:
    """Launch ``torchrun --standalone --nproc_per_node NPROC -m shared.distributed ARGV`` with
    this Python (so the same environment's torch runs), wait at most ``deadline_s`` seconds,
    and return the summary rank 0 wrote. On failure, raise ``RuntimeError`` with the end of
    torchrun's report, which names the failed rank and shows its error."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "shared.distributed", *argv]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # one thread per process (torchrun warns otherwise)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True)  # its own group: killed as a whole
    try:
        output, _ = process.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise TimeoutError(f"torchrun did not finish within {deadline_s:.0f} s; it and its ranks were killed") from None
    if process.returncode != 0:
        report = output[output.find("Root Cause"):] if "Root Cause" in output else output[-3000:]
        raise RuntimeError(f"torchrun failed with exit code {process.returncode}:\n{report.strip()}")
    return load_result(_arguments(argv).out)[0]


def load_result(out: str | os.PathLike) -> tuple[dict, dict[str, torch.Tensor]]:
    """The summary and the state (weights, and gradients as ``grad.NAME``) a run wrote to ``out``."""
    out = Path(out)
    summary = json.loads((out / "summary.json").read_text())
    state = torch.load(io.BytesIO((out / "weights.pt").read_bytes()), weights_only=True)
    return summary, state


if __name__ == "__main__":
    main(sys.argv[1:])
