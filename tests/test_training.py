"""shared.training: schedule, evaluation, the loop, checkpoints and resuming."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from shared import set_seed
from shared.data import CompactVocab
from shared.model import GPT, GPTConfig
from shared.training import (
    CheckpointError,
    TrainConfig,
    evaluate,
    load_checkpoint,
    lr_at,
    make_optimizer,
    save_checkpoint,
    train,
)

TINY = dict(vocab_size=50, context_length=8, d_model=16, n_heads=2, n_layers=1, dropout=0.0)


def tiny_model(seed: int = 0, **overrides) -> GPT:
    set_seed(seed)
    return GPT(GPTConfig(**{**TINY, **overrides}))


def tiny_data(n: int = 400, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, TINY["vocab_size"], (n,), generator=torch.Generator().manual_seed(seed))


def quiet(**kw) -> TrainConfig:
    return TrainConfig(**{**dict(steps=10, batch_size=8, lr=3e-3, min_lr=3e-4, warmup_steps=3,
                                 eval_every=5, eval_batch_size=32, device="cpu"), **kw})


def test_lr_schedule_shape():
    cfg = TrainConfig(steps=100, lr=1e-3, min_lr=1e-4, warmup_steps=10)
    lrs = [lr_at(s, cfg) for s in range(cfg.steps)]
    assert lrs[0] == pytest.approx(1e-4)  # lr / warmup_steps
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10], strict=True))  # rising during the warm-up
    assert lrs[9] == pytest.approx(1e-3)  # peak at the end of the warm-up
    assert all(a >= b for a, b in zip(lrs[9:-1], lrs[10:], strict=True))  # then never rising
    assert lrs[-1] == pytest.approx(1e-4)  # min_lr at the last update
    mid = 10 + (99 - 10) / 2
    assert lr_at(int(mid), cfg) == pytest.approx(5.5e-4, rel=0.05)  # cosine: half-way at the middle


def test_evaluate_equals_explicit_loop():
    model, data, T = tiny_model(), tiny_data(100), TINY["context_length"]
    model.train()
    losses = []
    with torch.no_grad():
        model.eval()
        for s in range(len(data) - T):  # every window, stride 1
            logits, _ = model(data[s:s + T][None])
            losses.extend(F.cross_entropy(logits[0], data[s + 1:s + T + 1], reduction="none").tolist())
        model.train()
    assert evaluate(model, data, T, batch_size=7) == pytest.approx(sum(losses) / len(losses), rel=1e-5)
    assert model.training  # the mode is restored
    # stride = T: non-overlapping windows, each target counted once
    losses = []
    with torch.no_grad():
        model.eval()
        for s in range(0, len(data) - T, T):
            logits, _ = model(data[s:s + T][None])
            losses.extend(F.cross_entropy(logits[0], data[s + 1:s + T + 1], reduction="none").tolist())
        model.train()
    assert evaluate(model, data, T, stride=T) == pytest.approx(sum(losses) / len(losses), rel=1e-5)


def test_evaluate_with_unk_vocab_and_count():
    """The <unk> rule adds ln(n_unk) per <unk> target; count keeps only the chosen targets."""
    model, T = tiny_model(), TINY["context_length"]
    vocab = CompactVocab(tuple(range(1000, 1049)), unk=True)  # 49 rows + <unk> = 50 outputs
    data = tiny_data(100)
    unk = data == vocab.unk_id
    assert unk.any() and not unk.all()
    per_target = []
    with torch.no_grad():
        model.eval()
        for s in range(0, len(data) - T, T):
            logits, _ = model(data[s:s + T][None])
            per_target.append(F.cross_entropy(logits[0], data[s + 1:s + T + 1], reduction="none"))
    per_target = torch.cat(per_target)
    targets = data[1:1 + len(per_target)]
    honest = per_target + (targets == vocab.unk_id) * math.log(50257 - 49)
    got = evaluate(model, data, T, stride=T, vocab=vocab)
    assert got == pytest.approx(honest.mean().item(), rel=1e-5)
    assert got > evaluate(model, data, T, stride=T) + 0.1  # the rule costs something
    keep = ~unk
    assert evaluate(model, data, T, stride=T, vocab=vocab, count=keep) == pytest.approx(
        per_target[targets != vocab.unk_id].mean().item(), rel=1e-5)
    with pytest.raises(ValueError, match="no target is counted"):
        evaluate(model, data, T, vocab=vocab, count=torch.zeros_like(unk))
    with pytest.raises(ValueError, match="shape of data"):
        evaluate(model, data, T, count=keep[:-1])


def test_full_evaluations_at_their_steps():
    history = train(tiny_model(), tiny_data(), tiny_data(200, 1),
                    quiet(steps=12, eval_every=3, eval_stride=8, full_eval_every=5), progress=False)
    assert history.step == [3, 6, 9, 12] and history.full_step == [12]  # 12: the end
    history = train(tiny_model(), tiny_data(), tiny_data(200, 1),
                    quiet(steps=12, eval_every=2, eval_stride=8, full_eval_every=4), progress=False)
    assert history.full_step == [4, 8, 12]
    assert history.full_val_loss[-1] != history.val_loss[-1]  # stride 1 against stride 8


def test_decay_embeddings_switch():
    model = tiny_model(tie_weights=True, pos_embedding="learned")
    for flag in (False, True):
        decayed = {id(p) for p in make_optimizer(model, quiet(decay_embeddings=flag)).param_groups[0]["params"]}
        assert (id(model.tok_emb.weight) in decayed) is flag and (id(model.pos_emb.weight) in decayed) is flag
        assert id(model.blocks[0].ln1.weight) not in decayed


def test_weight_decay_only_on_matrices():
    model = tiny_model(tie_weights=True)
    opt = make_optimizer(model, quiet())
    decayed = {id(p) for p in opt.param_groups[0]["params"]}
    assert opt.param_groups[0]["weight_decay"] > 0 and opt.param_groups[1]["weight_decay"] == 0
    assert id(model.blocks[0].attn.qkv.weight) in decayed
    assert id(model.tok_emb.weight) not in decayed and id(model.blocks[0].ln1.weight) not in decayed
    n_params = sum(len(g["params"]) for g in opt.param_groups)
    assert n_params == len(list(model.parameters()))  # every parameter once, tied one included


def test_training_reduces_loss_on_a_tiny_batch():
    model = tiny_model()
    data = tiny_data(40)  # small enough to memorise
    start = evaluate(model, data, 8)
    assert start == pytest.approx(math.log(50), abs=0.3)
    history = train(model, data, data, quiet(steps=60, eval_every=30, lr=1e-2, min_lr=1e-3), progress=False)
    assert history.step == [30, 60]
    assert history.val_loss[-1] < start - 1.0
    assert len(history.step_loss) == 60


def test_checkpoint_round_trip(tmp_path):
    model = tiny_model()
    path = save_checkpoint(tmp_path / "m.pt", model, step=7)
    loaded, info = load_checkpoint(path, None)
    x = tiny_data(16)[None, :8]
    model.eval(), loaded.eval()
    assert torch.equal(model(x)[0], loaded(x)[0])
    assert info["step"] == 7 and loaded.cfg == model.cfg and info["vocab"] is None
    vocab = CompactVocab((3, 9, 40), unk=True)
    _, info = load_checkpoint(save_checkpoint(tmp_path / "v.pt", model, step=7, vocab=vocab), None)
    assert info["vocab"] == vocab
    assert sorted(tmp_path.iterdir()) == [path, tmp_path / "v.pt"]  # no temporary file left behind


def test_failing_save_keeps_previous_checkpoint(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.pt", tiny_model(0), step=1)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, tiny_model(1), step=2)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_wrong_config_is_rejected_by_name(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", tiny_model(), step=1)
    with pytest.raises(CheckpointError, match=r"n_layers: checkpoint has 1, expected 2") as err:
        load_checkpoint(path, tiny_model(n_layers=2, d_model=32))
    assert "d_model" in str(err.value) and "n_heads" not in str(err.value)


def test_truncated_file_is_rejected(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", tiny_model(), step=1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path, None)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(path, None)


class Interrupt(Exception):
    pass


def stop_at_first_evaluation(history):
    raise Interrupt  # like a reader pressing stop, just after a checkpoint was saved


def test_resume_continues_exactly(tmp_path):
    train_data, val_data = tiny_data(300, 1), tiny_data(60, 2)
    cfg = quiet(steps=10, eval_every=5)
    straight = tiny_model(3, dropout=0.1)  # dropout: the random-number state must be resumed too
    h_straight = train(straight, train_data, val_data, cfg, progress=False)

    path = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        train(tiny_model(3, dropout=0.1), train_data, val_data, cfg, progress=False,
              checkpoint_path=path, callback=stop_at_first_evaluation)
    _, info = load_checkpoint(path, None)
    assert info["step"] == 5

    torch.manual_seed(12345)  # whatever happened in between
    resumed = tiny_model(99, dropout=0.1)  # other initial weights: all come from the checkpoint
    h_resumed = train(resumed, train_data, val_data, cfg, progress=False, resume=path)
    assert h_resumed.step == [5, 10]
    assert h_resumed.val_loss == pytest.approx(h_straight.val_loss, abs=1e-6)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_resume_refuses_other_settings(tmp_path):
    """A changed schedule would silently make a different run: resuming refuses it, naming the fields."""
    data = tiny_data(300, 1)
    path = tmp_path / "run.pt"
    cfg = quiet(steps=10, eval_every=5)
    with pytest.raises(Interrupt):
        train(tiny_model(3), data, data, cfg, progress=False, checkpoint_path=path,
              callback=stop_at_first_evaluation)
    for changed in (dict(steps=20), dict(lr=1e-2), dict(batch_size=4)):
        with pytest.raises(CheckpointError, match=f"{next(iter(changed))}: checkpoint has"):
            train(tiny_model(3), data, data, dataclasses.replace(cfg, **changed), progress=False, resume=path)
    # the device is not part of the run's definition: resuming elsewhere is allowed
    history = train(tiny_model(3), data, data, dataclasses.replace(cfg, device=None), progress=False,
                    resume=path)
    assert history.step == [5, 10]


def test_train_config_is_frozen():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 5  # type: ignore[misc]
    assert dataclasses.replace(cfg, steps=5).steps == 5 and cfg.steps == 1000


def test_callback_can_stop_early():
    history = train(tiny_model(), tiny_data(200), tiny_data(50, 1), quiet(steps=20, eval_every=5),
                    callback=lambda h: h.step[-1] >= 10, progress=False)
    assert history.step == [5, 10]
    assert len(history.step_loss) == 10


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_ema_endpoints_plain_training_and_frozen_start():
    data = tiny_data()
    plain = tiny_model()
    train(plain, data, data, quiet(), progress=False)
    # decay 0: the average is always the latest weights, so training is unchanged
    zero = tiny_model()
    train(zero, data, data, quiet(ema_decay=0.0), progress=False)
    for k, v in _weights(plain).items():
        torch.testing.assert_close(zero.state_dict()[k], v)
    # decay 1: the average never moves from its first value, the weights after update 1
    # (AveragedModel starts from a copy), and the model ends there
    first = tiny_model()
    train(first, data, data, quiet(steps=1), progress=False)
    one = tiny_model()
    history = train(one, data, data, quiet(ema_decay=1.0), progress=False)
    for k, v in _weights(first).items():
        torch.testing.assert_close(one.state_dict()[k], v)
    assert history.val_loss[-1] == pytest.approx(evaluate(first, data, 8, 32))
    assert history.val_loss[-1] != pytest.approx(evaluate(plain, data, 8, 32))


def test_ema_with_checkpoints_is_refused(tmp_path):
    with pytest.raises(ValueError, match="ema_decay"):
        train(tiny_model(), tiny_data(), tiny_data(), quiet(ema_decay=0.9),
              progress=False, checkpoint_path=tmp_path / "c.pt")


def test_label_smoothing_changes_the_objective_not_the_evaluation():
    data = tiny_data()
    plain, smooth = tiny_model(), tiny_model()
    h_plain = train(plain, data, data, quiet(steps=5), progress=False)
    h_smooth = train(smooth, data, data, quiet(steps=5, label_smoothing=0.1), progress=False)
    # Same first batch, same initial weights: the smoothed loss of step 1 is the plain one
    # mixed with the mean loss over all tokens, which is larger near a uniform start.
    first = h_smooth.step_loss[0]
    assert first > h_plain.step_loss[0]
    x = torch.randn(3, 50)
    y = torch.tensor([1, 2, 3])
    mixed = 0.9 * F.cross_entropy(x, y) + 0.1 * (-x.log_softmax(-1).mean(-1)).mean()
    torch.testing.assert_close(F.cross_entropy(x, y, label_smoothing=0.1), mixed)
    # the validation loss is still plain cross-entropy
    assert h_smooth.val_loss[-1] == pytest.approx(evaluate(smooth, data, 8, 32))
