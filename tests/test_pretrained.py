"""shared.pretrained: GPT-2 checkpoints in the hub's format load into our model, exactly.

Every test uses a small, randomly initialised GPT-2 made by the reference
implementation (transformers.GPT2LMHeadModel) and saved in the hub's file format,
so nothing is downloaded.
"""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from shared.data import DownloadError
from shared.model import GPT, GPTConfig
from shared.pretrained import (
    GPT2WeightsError,
    config_from_checkpoint,
    download_gpt2_weights,
    load_gpt2_weights,
    load_pretrained_gpt2,
    read_safetensors_header,
    weights_available,
)
from shared.reference import load_reference_gpt2, make_standin_gpt2

N_LAYERS, D_MODEL, N_HEADS, CONTEXT = 2, 32, 4, 24


def _reference_model(n_layers=N_LAYERS, d_model=D_MODEL, n_heads=N_HEADS, seed=0):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=50257, n_positions=CONTEXT, n_embd=d_model, n_layer=n_layers,
                     n_head=n_heads)
    return GPT2LMHeadModel(cfg).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A reference GPT-2 and the path of its model.safetensors (written by save_pretrained)."""
    folder = tmp_path_factory.mktemp("gpt2-small-random")
    ref = _reference_model()
    ref.save_pretrained(folder, safe_serialization=True)
    return ref, folder / "model.safetensors"


def _tokens(T=CONTEXT, B=2, seed=0):
    return torch.randint(0, 50257, (B, T), generator=torch.Generator().manual_seed(seed))


def _rewrite(src, dest, change):
    """Copy the checkpoint ``src`` to ``dest`` after ``change(tensors)`` edits its dict."""
    tensors = {k: v.clone() for k, v in load_file(str(src)).items()}
    change(tensors)
    save_file(tensors, str(dest))
    return dest


def _key(tensors, name):
    """The checkpoint's own spelling of ``name`` (with or without 'transformer.')."""
    return next(k for k in tensors if k.endswith(name))


def test_logits_equal_transformers(saved):
    ref, path = saved
    model = load_pretrained_gpt2(path)
    assert model.cfg == GPTConfig.gpt2(vocab_size=50257, context_length=CONTEXT, d_model=D_MODEL,
                                       n_heads=N_HEADS, n_layers=N_LAYERS, d_ff=4 * D_MODEL)
    assert not model.training
    idx = _tokens()
    with torch.no_grad():
        ours, _ = model(idx)
        theirs = ref(idx).logits
    assert ours.shape == theirs.shape == (2, CONTEXT, 50257)
    assert (ours - theirs).abs().max().item() <= 1e-4


def test_hub_layout_without_prefix_with_mask_buffers(saved, tmp_path):
    """OpenAI's file on the hub: no 'transformer.' prefix, causal-mask buffers, heads from d_model // 64."""
    from transformers import GPT2Config, GPT2LMHeadModel

    ref = _reference_model(d_model=128, n_heads=2, seed=1)  # d_head = 64, as in every GPT-2
    ref.save_pretrained(tmp_path / "orig", safe_serialization=True)

    def hub_layout(t):
        for k in list(t):
            t[k.removeprefix("transformer.")] = t.pop(k)
        for i in range(N_LAYERS):
            t[f"h.{i}.attn.bias"] = torch.ones(1, 1, CONTEXT, CONTEXT).tril()
            t[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
        t["lm_head.weight"] = t["wte.weight"].clone()  # an untied export of the same matrix

    (tmp_path / "hub").mkdir()
    path = _rewrite(tmp_path / "orig" / "model.safetensors", tmp_path / "hub" / "model.safetensors",
                    hub_layout)
    assert not (tmp_path / "hub" / "config.json").exists()
    assert config_from_checkpoint(path).n_heads == 2
    model = load_pretrained_gpt2(path)
    reloaded = load_reference_gpt2(path)  # transformers' own loader, from the lone file
    assert isinstance(reloaded, GPT2LMHeadModel) and isinstance(reloaded.config, GPT2Config)
    assert not (tmp_path / "hub" / "config.json").exists()  # nothing written beside the file
    idx = _tokens()
    with torch.no_grad():
        assert (model(idx)[0] - ref(idx).logits).abs().max().item() <= 1e-4
        assert (reloaded(idx).logits - ref(idx).logits).abs().max().item() <= 1e-6


def test_transposes_conv1d_weights(saved):
    ref, path = saved
    model = load_pretrained_gpt2(path)
    theirs = ref.transformer.h[1].mlp.c_fc.weight  # Conv1D: (in, out)
    assert theirs.shape == (D_MODEL, 4 * D_MODEL)
    assert torch.equal(model.blocks[1].ffn.fc.weight, theirs.T)
    assert torch.equal(model.blocks[0].attn.qkv.bias, ref.transformer.h[0].attn.c_attn.bias)
    assert model.head.weight is model.tok_emb.weight  # tied, as in GPT-2


def test_header_lists_every_tensor_like_safe_open(saved):
    _, path = saved
    header = read_safetensors_header(path)
    with safe_open(str(path), framework="pt") as f:
        assert list(header) == list(f.keys())
        for name, info in header.items():
            tensor = f.get_tensor(name)
            assert info == {"dtype": "F32", "shape": list(tensor.shape)}
    assert header["transformer.h.1.mlp.c_fc.weight"]["shape"] == [D_MODEL, 4 * D_MODEL]


def test_header_accepts_every_safetensors_dtype(tmp_path):
    """Unsigned and 8-bit float tensors are valid safetensors: such files must not be rejected."""
    dtypes = {"U16": torch.uint16, "U32": torch.uint32, "U64": torch.uint64, "F8_E4M3": torch.float8_e4m3fn,
              "F8_E5M2": torch.float8_e5m2, "BF16": torch.bfloat16, "BOOL": torch.bool, "I8": torch.int8}
    path = tmp_path / "mixed.safetensors"
    save_file({name: torch.zeros(2, 3, dtype=dtype) for name, dtype in dtypes.items()}, str(path))
    header = read_safetensors_header(path)
    assert {name: info["dtype"] for name, info in header.items()} == {name: name for name in dtypes}
    assert all(info["shape"] == [2, 3] for info in header.values())


def test_random_bytes_are_rejected(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(0),
                                   dtype=torch.uint8).numpy().tobytes())
    with pytest.raises(GPT2WeightsError, match=r"\(4,096 bytes\) is not a complete safetensors file: .*header"):
        load_pretrained_gpt2(path)
    path.write_bytes(b"<html>404 Not Found</html>")  # what a failed download may leave behind
    with pytest.raises(GPT2WeightsError, match=r"\(26 bytes\) is not a complete safetensors file: .*header.*again"):
        load_pretrained_gpt2(path)
    with pytest.raises(GPT2WeightsError, match="does not exist"):
        read_safetensors_header(tmp_path / "absent.safetensors")


@pytest.mark.parametrize("cut", ["in the header", "in the tensors", "one byte short", "one byte extra"])
def test_truncated_file_is_rejected(saved, tmp_path, cut):
    """safetensors checks that the file is exactly as long as its header says."""
    _, path = saved
    data = path.read_bytes()
    size = {"in the header": 100, "in the tensors": len(data) // 2, "one byte short": len(data) - 1,
            "one byte extra": len(data)}[cut]
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(data[:size] + (b"\0" if cut == "one byte extra" else b""))
    reason = "invalid header length" if cut == "in the header" else "not fully covered"
    with pytest.raises(GPT2WeightsError, match=f"not a complete safetensors file.*{reason}.*truncated"):
        read_safetensors_header(bad)
    with pytest.raises(GPT2WeightsError, match=reason):
        load_pretrained_gpt2(bad)


def test_missing_tensor_is_named(saved, tmp_path):
    _, path = saved
    bad = _rewrite(path, tmp_path / "model.safetensors",
                   lambda t: t.pop(_key(t, "h.1.mlp.c_fc.bias")))
    with pytest.raises(GPT2WeightsError, match=r"missing tensor\(s\) h\.1\.mlp\.c_fc\.bias"):
        load_gpt2_weights(GPT(config_from_checkpoint(path)), bad)


def test_extra_tensor_is_named(saved, tmp_path):
    _, path = saved
    bad = _rewrite(path, tmp_path / "model.safetensors",
                   lambda t: t.update({"h.0.attn.rotary_freqs": torch.zeros(8)}))
    with pytest.raises(GPT2WeightsError, match=r"unexpected tensor\(s\) h\.0\.attn\.rotary_freqs"):
        load_pretrained_gpt2(bad)


def test_extra_block_is_named(saved, tmp_path):
    """A checkpoint deeper than the model it is loaded into: the surplus block is named."""
    _, path = saved
    model = GPT(GPTConfig.gpt2(context_length=CONTEXT, d_model=D_MODEL, n_heads=N_HEADS,
                               n_layers=1))
    with pytest.raises(GPT2WeightsError, match=r"unexpected tensor\(s\) h\.1\.attn\.c_attn\.bias"):
        load_gpt2_weights(model, path)


def test_misshapen_tensor_is_named(saved, tmp_path):
    _, path = saved

    def wrong_shape(t):
        t[_key(t, "h.0.attn.c_proj.weight")] = torch.zeros(D_MODEL, D_MODEL + 1)

    bad = _rewrite(path, tmp_path / "model.safetensors", wrong_shape)
    with pytest.raises(GPT2WeightsError, match=r"h\.0\.attn\.c_proj\.weight has shape \(32, 33\)"):
        load_gpt2_weights(GPT(config_from_checkpoint(path)), bad)


def test_untied_head_that_differs_is_rejected(saved, tmp_path):
    _, path = saved
    bad = _rewrite(path, tmp_path / "model.safetensors",
                   lambda t: t.update({"lm_head.weight": torch.zeros(50257, D_MODEL)}))
    with pytest.raises(GPT2WeightsError, match="lm_head.weight differs from wte.weight"):
        load_pretrained_gpt2(bad)


def test_model_without_gpt2_switches_is_rejected(saved):
    _, path = saved
    model = GPT(GPTConfig(context_length=CONTEXT, d_model=D_MODEL, n_heads=N_HEADS,
                          n_layers=N_LAYERS))  # sinusoidal, ReLU, untied: the course's shape
    with pytest.raises(GPT2WeightsError, match="pos_embedding='sinusoidal'"):
        load_gpt2_weights(model, path)


def test_standin_is_deterministic_and_loads(tmp_path):
    a = make_standin_gpt2(tmp_path / "a", n_layers=1, d_model=32, n_heads=2, context_length=16)
    b = make_standin_gpt2(tmp_path / "b", n_layers=1, d_model=32, n_heads=2, context_length=16)
    c = make_standin_gpt2(tmp_path / "c", n_layers=1, d_model=32, n_heads=2, context_length=16, seed=1)
    assert a.name == "model.safetensors" and (a.parent / "config.json").exists()
    ta, tb, tc = load_file(str(a)), load_file(str(b)), load_file(str(c))
    assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta)
    assert not torch.equal(ta["transformer.wte.weight"], tc["transformer.wte.weight"])  # the seed matters
    model = load_pretrained_gpt2(a)
    assert (model.cfg.n_layers, model.cfg.d_model, model.cfg.n_heads) == (1, 32, 2)


def test_standin_leaves_the_global_random_state_alone(tmp_path):
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    make_standin_gpt2(tmp_path, n_layers=1, d_model=32, n_heads=2, context_length=16, seed=0)
    assert torch.equal(torch.rand(4), expected)


def test_loaded_model_is_complete_and_trainable(saved):
    """Built on the meta device and filled by load_state_dict(assign=True): nothing left on meta,
    the output layer tied to the token embedding, and gradients reach every parameter."""
    _, path = saved
    model = load_pretrained_gpt2(path)
    assert all(p.device.type == "cpu" and p.requires_grad for p in model.parameters())
    assert model.head.weight is model.tok_emb.weight
    n_distinct = sum(p.numel() for p in model.parameters())  # parameters() skips the tied duplicate
    assert model.num_params() == n_distinct
    _, loss = model(_tokens(T=8), _tokens(T=8, seed=1))
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_offline_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TFS_OFFLINE", "1")
    monkeypatch.setenv("TFS_DATA_DIR", str(tmp_path))
    assert weights_available() is False
    with pytest.raises(DownloadError, match="TFS_OFFLINE") as err:
        download_gpt2_weights(progress=False)
    assert "model.safetensors" in str(err.value)
    assert not any(tmp_path.rglob("*.safetensors"))


def test_cached_copy_counts_as_available(tmp_path, monkeypatch, saved):
    """A complete cached file is used offline; its SHA-256 is checked before use."""
    from shared import pretrained

    monkeypatch.setenv("TFS_OFFLINE", "1")
    monkeypatch.setenv("TFS_DATA_DIR", str(tmp_path))
    _, path = saved
    dest = tmp_path / pretrained.GPT2_FILENAME
    dest.parent.mkdir(parents=True)
    shutil.copyfile(path, dest)
    monkeypatch.setattr(pretrained, "GPT2_SIZE", dest.stat().st_size)
    assert weights_available() is True
    # Not OpenAI's bytes: the checksum fails, the copy is deleted, and offline it is an error.
    with pytest.raises(DownloadError, match="TFS_OFFLINE"):
        download_gpt2_weights(progress=False)
    assert not dest.exists()


def test_crop_context_keeps_short_sequences_exact(saved):
    from shared.pretrained import crop_context

    _, path = saved
    model = load_pretrained_gpt2(path)
    idx = _tokens(T=8)
    with torch.no_grad():
        before, _ = model(idx)
        crop_context(model, 8)
        after, _ = model(idx)
    assert model.cfg.context_length == 8 and model.pos_emb.weight.shape == (8, D_MODEL)
    assert torch.equal(before, after)
    with pytest.raises(ValueError, match="context_length"):
        model(_tokens(T=9))
