"""Chapter 10: data parallelism, sharding and accumulation give the single-process update, and
a run with a dead or hanging rank fails with a clear error instead of hanging (shared.distributed),
and the cost measurements of shared.scaling count what they say."""

from __future__ import annotations

import time

import pytest
import torch
from torch.utils.data import DistributedSampler

from shared import SEED
from shared.distributed import (
    check_rank_indices,
    demo_config,
    load_result,
    rank_indices,
    run_torchrun,
    spawn,
    train_steps,
)
from shared.model import GPT
from shared.scaling import count_flops, matmul_params, model_state_bytes, time_steps, training_flops

VOCAB = 512  # the default of python -m shared.distributed: seeded random token ids


def single_process(steps: int, accumulate: int = 1, batch_size: int = 16) -> GPT:
    """The reference: one process, the whole global batch, the same seed and optimizer as a run."""
    torch.manual_seed(SEED)
    model = GPT(demo_config(VOCAB))
    tokens = torch.randint(VOCAB, (20_000,), generator=torch.Generator().manual_seed(SEED))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95), weight_decay=0.1)
    train_steps(model, optimizer, tokens, steps=steps, batch_size=batch_size, context_length=16,
                accumulate=accumulate)
    return model


def relative_gap(state: dict[str, torch.Tensor], model: GPT, prefix: str = "") -> float:
    """|a - b| / |b| over all parameters (or, with prefix "grad.", all gradients)."""
    pairs = [(state[prefix + n], p.grad if prefix else p.detach()) for n, p in model.named_parameters()]
    return (sum(((a - b) ** 2).sum() for a, b in pairs) ** 0.5 / sum((b**2).sum() for _, b in pairs) ** 0.5).item()


# ----------------------------------------------------------------------------- the split


@pytest.mark.parametrize("n,world_size", [(8, 2), (10, 4), (3, 4), (7, 1), (13, 5)])
def test_rank_indices_are_distributed_samplers_split(n, world_size):
    for rank in range(world_size):
        sampler = DistributedSampler(range(n), num_replicas=world_size, rank=rank, shuffle=False)
        assert rank_indices(n, rank, world_size) == list(sampler)


def test_rank_indices_reject_bad_input():
    with pytest.raises(ValueError, match="rank"):
        rank_indices(8, 2, 2)
    with pytest.raises(ValueError, match="n must be"):
        rank_indices(0, 0, 1)


def test_rank_indices_check(capsys):
    check_rank_indices(rank_indices)
    assert "passed" in capsys.readouterr().out

    def no_padding(n, rank, world_size):  # unequal shares: one rank would run an extra step
        return list(range(rank, n, world_size))

    with pytest.raises(AssertionError, match=r"n=10, rank=2, world_size=4.*same number"):
        check_rank_indices(no_padding)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        check_rank_indices(lambda n, rank, world_size: [1 // 0])


# ----------------------------------------------------------------------------- equal updates


@pytest.mark.parametrize("mode", ["ddp", "manual", "fsdp"])
def test_two_ranks_give_the_single_process_gradients_and_weights(mode, tmp_path):
    """Two processes on half the batch each (DDP, a hand-made all-reduce, or FSDP2 sharding)."""
    summary = spawn(["--out", str(tmp_path), "--mode", mode, "--steps", "2"], world_size=2)
    _, state = load_result(tmp_path)
    reference = single_process(steps=2)
    assert summary["world_size"] == 2 and summary["threads"] == 1
    assert relative_gap(state, reference, "grad.") < 1e-4  # gradients: rounding only
    assert relative_gap(state, reference) < 1e-5  # weights: AdamW magnifies it a little
    if mode == "fsdp":  # each rank holds half of the weights, gradients and AdamW state
        full = sum(p.numel() for p in reference.parameters()) * 4
        for memory in summary["memory_per_rank"]:
            assert memory["weights"] <= full / 2 + 1024 and memory["gradients"] <= full / 2 + 1024


def test_gradient_accumulation_equals_the_big_batch():
    torch.set_num_threads(1)
    big, accumulated = single_process(steps=2), single_process(steps=2, accumulate=4)
    state = {n: p.detach() for n, p in accumulated.named_parameters()}
    state.update({f"grad.{n}": p.grad for n, p in accumulated.named_parameters()})
    assert relative_gap(state, big, "grad.") < 1e-4 and relative_gap(state, big) < 1e-5


def test_train_steps_rejects_an_uneven_split():
    model = GPT(demo_config(VOCAB))
    with pytest.raises(ValueError, match="divisible"):
        train_steps(model, torch.optim.SGD(model.parameters(), lr=0.1), torch.arange(100), steps=1,
                    batch_size=10, context_length=16, accumulate=4)


# ----------------------------------------------------------------------------- failing loudly


def test_a_killed_rank_fails_the_run_quickly(tmp_path):
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"(?s)rank 1 of 2 failed.*(SIGKILL|signal)"):
        spawn(["--out", str(tmp_path), "--fail-rank", "1", "--fail-how", "kill"], world_size=2)
    assert time.monotonic() - start < 60
    assert not (tmp_path / "summary.json").exists()  # nothing half-written either


def test_a_raising_rank_reports_its_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"(?s)rank 1 of 2 failed.*failed on purpose"):
        spawn(["--out", str(tmp_path), "--fail-rank", "1", "--fail-how", "raise"], world_size=2)


def test_a_hanging_rank_times_out_instead_of_waiting_for_ever(tmp_path):
    """Rank 1 never joins the next all-reduce: rank 0's collective fails after --timeout seconds."""
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"(?s)rank 0 of 2 failed.*[Tt]imed out"):
        spawn(["--out", str(tmp_path), "--fail-rank", "1", "--fail-how", "hang", "--timeout", "3"], world_size=2)
    assert time.monotonic() - start < 60


def test_the_deadline_stops_a_run_that_never_ends(tmp_path):
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="did not finish within 10 s"):
        spawn(["--out", str(tmp_path), "--fail-rank", "1", "--fail-how", "hang"], world_size=2, deadline_s=10)
    assert time.monotonic() - start < 30


def test_torchrun_reports_the_failed_rank(tmp_path):
    with pytest.raises(RuntimeError, match=r"(?s)torchrun failed.*rank\s*:\s*1.*failed on purpose"):
        run_torchrun(["--out", str(tmp_path), "--fail-rank", "1"], nproc=2, deadline_s=90)


# ----------------------------------------------------------------------------- costs


def test_the_flop_counter_sees_six_flops_per_weight_and_token():
    model = GPT(demo_config(VOCAB))
    x = torch.randint(VOCAB, (4, 16), generator=torch.Generator().manual_seed(0))
    assert count_flops(model, x, x) == 6 * matmul_params(model) * x.numel()
    assert training_flops(124_000_000, 10) == 7_440_000_000
    with pytest.raises(ValueError, match="n_tokens"):
        training_flops(10, -1)


def test_model_state_is_16_bytes_per_parameter():
    model = GPT(demo_config(VOCAB))
    x = torch.randint(VOCAB, (2, 16), generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.AdamW(model.parameters())
    model(x, x)[1].backward()
    optimizer.step()
    memory = model_state_bytes(model, optimizer)
    n, tensors = model.num_params(), len(list(model.parameters()))
    assert memory["weights"] == memory["gradients"] == 4 * n
    assert memory["AdamW state"] == 8 * n + 4 * tensors  # m and v, plus one step counter per tensor


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_gpu_path_bf16_autocast_trains_like_fp32():
    torch.manual_seed(SEED)
    x = torch.randint(VOCAB, (64, 16), generator=torch.Generator().manual_seed(0))
    fp32 = GPT(demo_config(VOCAB)).cuda()
    bf16 = GPT(demo_config(VOCAB)).cuda()
    bf16.load_state_dict(fp32.state_dict())
    _, losses32 = time_steps(fp32, x, x, steps=3)
    _, losses16 = time_steps(bf16, x, x, steps=3, dtype=torch.bfloat16)
    assert all(abs(a - b) < 0.05 for a, b in zip(losses32, losses16, strict=True))
