"""OpenAI's GPT-2 weights in the book's own model (Chapter 9).

GPT-2 "small" is our :class:`shared.model.GPT` with the switches of
:meth:`GPTConfig.gpt2 <shared.model.GPTConfig.gpt2>`. This module fetches the
124M-parameter checkpoint that OpenAI released, in the Hugging Face hub's
``model.safetensors`` format, and copies every tensor into our model:

==========================================  ==========================================
GPT-2 checkpoint (``transformer.`` optional)  our model
==========================================  ==========================================
``wte.weight``                               ``tok_emb.weight`` (and ``head.weight``, tied)
``wpe.weight``                               ``pos_emb.weight``
``h.N.ln_1.{weight,bias}``                   ``blocks.N.ln1.{weight,bias}``
``h.N.attn.c_attn.{weight,bias}``            ``blocks.N.attn.qkv.{weight,bias}``
``h.N.attn.c_proj.{weight,bias}``            ``blocks.N.attn.proj.{weight,bias}``
``h.N.ln_2.{weight,bias}``                   ``blocks.N.ln2.{weight,bias}``
``h.N.mlp.c_fc.{weight,bias}``               ``blocks.N.ffn.fc.{weight,bias}``
``h.N.mlp.c_proj.{weight,bias}``             ``blocks.N.ffn.proj.{weight,bias}``
``ln_f.{weight,bias}``                       ``ln_f.{weight,bias}``
==========================================  ==========================================

GPT-2 stores its four projection matrices as "Conv1D" layers of shape
``(in, out)``; ``nn.Linear`` keeps ``(out, in)``, so those are transposed.
The checkpoint may also hold each block's causal-mask buffers
(``h.N.attn.bias``, ``h.N.attn.masked_bias``): they are not weights and are
skipped. Anything else that does not fit - a missing tensor, an unknown one,
a wrong shape, a file that is not safetensors or was cut short - raises
:class:`GPT2WeightsError` naming the problem.

The file is read with ``safetensors``, which holds plain tensors only (no
pickle, so loading it cannot run code).

Where there is no network (``TFS_OFFLINE=1``, as on the machines that test this
book), :func:`weights_available` is False and the chapter loads the small random
GPT-2 that :func:`shared.reference.make_standin_gpt2` writes in exactly the hub's
format, so the same loading path can still be followed end to end.

The download is pinned: :data:`GPT2_URL` names one commit of the hub repository
(:data:`GPT2_REVISION`), not the moving ``main`` branch, and the file must have
that commit's SHA-256 and size (:data:`GPT2_SHA256`, :data:`GPT2_SIZE`, the
values of the hub's Git LFS pointer). Set the environment variable
``TFS_GPT2_URL`` to download the same file from elsewhere (a mirror, a local
server): the SHA-256 and size are still checked, so only the same bytes are
accepted. :func:`download_gpt2_weights` takes ``url``, ``sha256`` and ``size``
arguments for other files (the tests serve a stand-in this way).
``scripts/publish_gpt2_chapter.py`` uses it to run Chapter 9 on the real weights
for the published book.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path

import torch

from shared.download import DownloadError, cache_dir, cached_download, is_offline
from shared.model import GPT, GPTConfig

__all__ = [
    "GPT2_REVISION",
    "GPT2_URL",
    "GPT2_URL_ENV",
    "GPT2_SHA256",
    "GPT2_SIZE",
    "GPT2WeightsError",
    "gpt2_url",
    "weights_available",
    "download_gpt2_weights",
    "read_safetensors_header",
    "gpt2_name_map",
    "config_from_checkpoint",
    "load_gpt2_weights",
    "load_pretrained_gpt2",
    "crop_context",
]

# One commit of https://huggingface.co/openai-community/gpt2: the file cannot change under us.
GPT2_REVISION = "607a30d783dfa663caf39e06633721c8d4cfcd7e"
GPT2_URL = f"https://huggingface.co/openai-community/gpt2/resolve/{GPT2_REVISION}/model.safetensors"
GPT2_URL_ENV = "TFS_GPT2_URL"  # set it to download the same file from another address
# The hub's Git LFS pointer of that file at that revision: its SHA-256 (the LFS object id) and size.
GPT2_SHA256 = "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707"
GPT2_SIZE = 548_105_171  # bytes
GPT2_FILENAME = "gpt2/model.safetensors"  # inside the book's cache folder

_BUFFER = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")  # causal-mask buffers, not weights
_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


class GPT2WeightsError(ValueError):
    """A checkpoint that cannot be loaded into our GPT-2; the message names the problem."""


# --------------------------------------------------------------------------- the file


def gpt2_url() -> str:
    """Where GPT-2's weights are downloaded from: ``$TFS_GPT2_URL`` if set, else :data:`GPT2_URL`."""
    return os.environ.get(GPT2_URL_ENV, "").strip() or GPT2_URL


def weights_available(timeout: float = 5.0) -> bool:
    """True if OpenAI's GPT-2 weights are in the cache or can be downloaded now.

    False with ``TFS_OFFLINE=1`` (unless already cached) or when :func:`gpt2_url`
    cannot be reached; the chapter then uses :func:`shared.reference.make_standin_gpt2`. A cached
    file counts if it has the right size; :func:`download_gpt2_weights` checks its
    SHA-256 before it is used.
    """
    cached = cache_dir() / GPT2_FILENAME
    if cached.exists() and cached.stat().st_size == GPT2_SIZE:
        return True
    if is_offline():
        return False
    import requests

    try:
        r = requests.head(gpt2_url(), timeout=timeout, allow_redirects=True)
        return r.ok
    except requests.RequestException:
        return False


def download_gpt2_weights(
    progress: bool = True,
    *,
    url: str | None = None,
    sha256: str | None = None,
    size: int | None = None,
    **kwargs,
) -> Path:
    """The path of GPT-2's ``model.safetensors`` (548 MB), downloaded on first use.

    The file goes to ``gpt2/model.safetensors`` in the book's cache folder. The
    download is atomic and its SHA-256 is checked (:func:`shared.data.download`):
    a file cut short, damaged or different is refused with
    :class:`shared.data.DownloadError` and nothing is left behind; so is a cached
    copy that does not match (it is deleted and downloaded again). With
    ``TFS_OFFLINE=1`` and no cached copy it raises ``DownloadError`` saying where
    to put the file by hand.

    ``url``, ``sha256`` and ``size`` default to the pinned file (:func:`gpt2_url`,
    :data:`GPT2_SHA256`, :data:`GPT2_SIZE`); other keyword arguments (``timeout``,
    ``retries``, ``backoff``) go to :func:`shared.data.download`.
    """
    url = url or gpt2_url()
    sha256 = sha256 or GPT2_SHA256
    size = GPT2_SIZE if size is None else size
    dest = cache_dir() / GPT2_FILENAME
    if dest.exists() and dest.stat().st_size != size:
        dest.unlink()  # the wrong size is enough to know: no need to hash it
    path = cached_download(url, GPT2_FILENAME, sha256, progress=progress, **kwargs)
    got = path.stat().st_size
    if got != size:  # the SHA-256 matched, so the expected size given is the wrong one
        path.unlink()
        raise DownloadError(
            f"{url} has the expected SHA-256 {sha256} but {got:,} bytes, not the expected "
            f"{size:,}: the expected SHA-256 and size do not describe the same file"
        )
    return path


def read_safetensors_header(path: str | os.PathLike) -> dict[str, dict]:
    """The tensor table of a safetensors file: ``{name: {"dtype": "F32", "shape": [...]}}``.

    A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of
    JSON describing each tensor (``dtype``, ``shape``, ``data_offsets``), then the raw
    tensor bytes. ``safetensors.safe_open`` reads and checks that header (including
    that the file is exactly as long as the header says, so a truncated download is
    caught) without reading any tensor. Names are in the library's (sorted) order.
    """
    with _open_safetensors(path) as f:
        return {name: {"dtype": f.get_slice(name).get_dtype(), "shape": f.get_slice(name).get_shape()}
                for name in f.keys()}


def _open_safetensors(path: str | os.PathLike):
    """``safe_open(path)``, with :class:`GPT2WeightsError` saying what to do if it fails."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise GPT2WeightsError(f"{path} does not exist")
    try:
        return safe_open(str(path), framework="pt", device="cpu")
    except SafetensorError as err:
        raise GPT2WeightsError(
            f"{path} ({path.stat().st_size:,} bytes) is not a complete safetensors file: {err}. It is "
            "truncated, damaged or not a safetensors file at all; if it was downloaded, delete it and "
            "download it again"
        ) from None


def _strip(name: str) -> str:
    return name[len("transformer."):] if name.startswith("transformer.") else name


# --------------------------------------------------------------------------- the mapping


def gpt2_name_map(n_layers: int) -> dict[str, tuple[str, bool]]:
    """``{our parameter name: (GPT-2 checkpoint name, transpose?)}`` for every weight."""
    names = {
        "tok_emb.weight": ("wte.weight", False),
        "pos_emb.weight": ("wpe.weight", False),
        "ln_f.weight": ("ln_f.weight", False),
        "ln_f.bias": ("ln_f.bias", False),
    }
    parts = {"ln1": "ln_1", "attn.qkv": "attn.c_attn", "attn.proj": "attn.c_proj",
             "ln2": "ln_2", "ffn.fc": "mlp.c_fc", "ffn.proj": "mlp.c_proj"}
    for i in range(n_layers):
        for ours, theirs in parts.items():
            for kind in ("weight", "bias"):
                their_name = f"h.{i}.{theirs}.{kind}"
                names[f"blocks.{i}.{ours}.{kind}"] = (their_name, their_name.endswith(_CONV1D))
    return names


def config_from_checkpoint(path: str | os.PathLike, **overrides) -> GPTConfig:
    """The :class:`GPTConfig` that fits a GPT-2 checkpoint.

    The shapes give the vocabulary, width, context length, depth and feed-forward
    width. The number of heads cannot be seen in any shape: it is read from a
    ``config.json`` beside the file (as the hub and ``save_pretrained`` write it)
    or, without one, taken as ``d_model // 64`` (every GPT-2 size uses heads of 64).
    """
    path = Path(path)
    shapes = {_strip(k): v["shape"] for k, v in read_safetensors_header(path).items()}
    for needed in ("wte.weight", "wpe.weight", "h.0.mlp.c_fc.weight"):
        if needed not in shapes:
            book = " (a book-model file: load it with shared.book.load_book_model)" if "vocab.ids" in shapes else ""
            raise GPT2WeightsError(f"{path} is not a GPT-2 checkpoint: it has no tensor {needed!r}{book}")
        if len(shapes[needed]) != 2:
            raise GPT2WeightsError(f"{path}: {needed} must be a matrix, got shape {tuple(shapes[needed])}")
    vocab_size, d_model = shapes["wte.weight"]
    layers = {int(m.group(1)) for k in shapes if (m := re.match(r"^h\.(\d+)\.", k))}
    settings = dict(
        vocab_size=vocab_size, d_model=d_model, context_length=shapes["wpe.weight"][0],
        n_layers=max(layers) + 1, d_ff=shapes["h.0.mlp.c_fc.weight"][1],
        n_heads=max(1, d_model // 64),
    )
    config_json = path.with_name("config.json")
    if config_json.exists():
        try:
            hf = json.loads(config_json.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise GPT2WeightsError(f"{config_json} is not valid JSON ({err}): fix or delete it") from None
        act = hf.get("activation_function", "gelu_new")
        if act not in ("gelu_new", "gelu_pytorch_tanh"):
            raise GPT2WeightsError(
                f"{config_json}: activation_function={act!r}; our model has only GPT-2's "
                "tanh-approximated GELU ('gelu_new')"
            )
        for key, want in (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                          ("add_cross_attention", False)):
            if hf.get(key, want) != want:
                raise GPT2WeightsError(f"{config_json}: {key}={hf[key]!r} is not supported")
        settings["n_heads"] = hf.get("n_head", settings["n_heads"])
        settings["ln_eps"] = hf.get("layer_norm_epsilon", 1e-5)
    settings.update(overrides)
    return GPTConfig.gpt2(**settings)


def load_gpt2_weights(model: GPT, path: str | os.PathLike) -> GPT:
    """Give ``model`` every tensor of a GPT-2 ``model.safetensors``; return ``model``.

    ``model`` must have GPT-2's switches (learned positions, GELU, biases, tied
    output layer) and the checkpoint's shape. It may live on the ``meta`` device:
    its parameters are replaced by new ones, on the CPU, that hold the checkpoint's
    numbers (so build an optimizer only afterwards, and move the model after).
    """
    if not isinstance(model, GPT):
        raise GPT2WeightsError(f"model must be a shared.model.GPT, got {type(model).__name__}; "
                               "build one with GPT(config_from_checkpoint(path))")
    cfg = model.cfg
    wrong = [f"{k}={getattr(cfg, k)!r} (GPT-2 has {v!r})" for k, v in
             (("pos_embedding", "learned"), ("activation", "gelu"), ("bias", True),
              ("tie_weights", True)) if getattr(cfg, k) != v]
    if wrong:
        raise GPT2WeightsError("the model is not GPT-2 shaped: " + ", ".join(wrong)
                               + "; build it with GPTConfig.gpt2(...)")
    path = Path(path)
    with _open_safetensors(path) as f:
        tensors = {_strip(k): f.get_tensor(k) for k in f.keys()}
    mapping = gpt2_name_map(cfg.n_layers)
    wanted = {theirs for theirs, _ in mapping.values()}

    head = tensors.pop("lm_head.weight", None)  # present only in untied exports
    if head is not None and not torch.equal(head, tensors.get("wte.weight", head)):
        raise GPT2WeightsError(
            f"{path}: lm_head.weight differs from wte.weight, but GPT-2 ties them "
            "(our model has tie_weights=True)"
        )
    missing = sorted(wanted - tensors.keys())
    extra = sorted(k for k in tensors.keys() - wanted if not _BUFFER.match(k))
    if missing or extra:
        problems = []
        if missing:
            problems.append(f"missing tensor(s) {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected tensor(s) {', '.join(extra)}")
        raise GPT2WeightsError(
            f"{path} does not fit a GPT-2 with n_layers={cfg.n_layers}: " + "; ".join(problems)
        )

    params = dict(model.named_parameters())
    for ours, (theirs, transpose) in mapping.items():
        expected = tuple(params[ours].shape[::-1] if transpose else params[ours].shape)
        got = tuple(tensors[theirs].shape)
        if got != expected:
            raise GPT2WeightsError(
                f"{path}: tensor {theirs} has shape {got}, but {ours} needs {expected}"
                + (" (GPT-2 stores it as Conv1D, (in, out))" if transpose else "")
            )
    state = {ours: (tensors[theirs].t().contiguous() if transpose else tensors[theirs]).to(params[ours].dtype)
             for ours, (theirs, transpose) in mapping.items()}
    state["head.weight"] = state["tok_emb.weight"]  # tied: one matrix under two names
    # assign=True: the checkpoint's tensors become the parameters (no copy, and it works on
    # a model built on the "meta" device); strict=True: every name must match exactly.
    model.load_state_dict(state, strict=True, assign=True)
    model.head.weight = model.tok_emb.weight  # assign gave the two names two Parameters: tie them again
    return model


def load_pretrained_gpt2(path: str | os.PathLike | None = None, *, device="cpu") -> GPT:
    """Our :class:`GPT` with GPT-2's weights, in eval mode.

    ``path`` defaults to OpenAI's 124M checkpoint (downloaded on first use, see
    :func:`download_gpt2_weights`); give a ``model.safetensors`` of another GPT-2
    (e.g. the stand-in of :func:`shared.reference.make_standin_gpt2`) to load that instead.
    """
    if not isinstance(path, (str, os.PathLike, type(None))):
        raise TypeError(f"path must be a file name or None (OpenAI's weights), got {type(path).__name__}")
    path = download_gpt2_weights() if path is None else Path(path)
    cfg = config_from_checkpoint(path)
    with torch.device("meta"):  # no time or memory spent on a random initialisation
        model = GPT(cfg)
    return load_gpt2_weights(model, path).to(device).eval()


def crop_context(model: GPT, context_length: int) -> GPT:
    """Shorten a model's window to ``context_length`` tokens, in place; return it.

    Only the first ``context_length`` rows of the learned position table are kept,
    so the model computes exactly what it did for sequences that short. Fine-tuning
    on a laptop uses this: GPT-2's 1024 positions cost far more than a short window.
    """
    if isinstance(context_length, bool) or not isinstance(context_length, int) \
            or not 0 < context_length <= model.cfg.context_length:
        raise ValueError(f"context_length must be in 1..{model.cfg.context_length}, got {context_length}")
    if model.cfg.pos_embedding != "learned":
        raise ValueError("crop_context needs learned positions (GPT-2's)")
    with torch.no_grad():
        rows = model.pos_emb.weight[:context_length].clone()
    model.pos_emb = torch.nn.Embedding(context_length, model.cfg.d_model, device=rows.device)
    with torch.no_grad():
        model.pos_emb.weight.copy_(rows)
    model.cfg = replace(model.cfg, context_length=context_length)
    return model
