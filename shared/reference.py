"""GPT-2 as the reference implementation builds it: a stand-in and a model to compare with (Chapter 9).

Hugging Face's ``transformers`` is GPT-2's reference implementation. It serves the book twice:

* :func:`make_standin_gpt2` writes a small, randomly initialised GPT-2 in exactly the hub's
  file format (``model.safetensors`` and ``config.json``), so that where OpenAI's weights cannot
  be downloaded (``TFS_OFFLINE=1``, as on the machines that test this book) the loading path
  of :mod:`shared.pretrained` can still be followed end to end;
* :func:`load_reference_gpt2` loads the same file with transformers' own loader, so that
  Chapter 9 can compare our model's logits with the reference's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import torch

from shared.download import cache_dir
from shared.pretrained import config_from_checkpoint

__all__ = ["STANDIN_FOLDER", "make_standin_gpt2", "load_reference_gpt2"]

STANDIN_FOLDER = "gpt2-standin"  # inside the book's cache folder


def make_standin_gpt2(
    folder: str | os.PathLike | None = None,
    *,
    n_layers: int = 2,
    d_model: int = 64,
    n_heads: int = 4,
    context_length: int = 128,
    seed: int = 0,
) -> Path:
    """Write a small, randomly initialised GPT-2 in the hub's format; return its ``model.safetensors``.

    It is made by the reference implementation (``transformers.GPT2LMHeadModel``)
    with GPT-2's vocabulary and file layout but only ``n_layers`` blocks of width
    ``d_model``, and saved with ``save_pretrained`` (``model.safetensors`` and
    ``config.json``) into ``folder`` (default: ``gpt2-standin/`` in the book's cache).
    The same ``seed`` gives the same file.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = Path(folder) if folder is not None else cache_dir() / STANDIN_FOLDER
    hf_cfg = GPT2Config(vocab_size=50257, n_positions=context_length, n_embd=d_model,
                        n_layer=n_layers, n_head=n_heads)
    # transformers initialises from the global RNG: seed it for this model only, and give
    # the caller's random state back untouched afterwards.
    with torch.random.fork_rng(devices=[]), _quiet_transformers():
        torch.manual_seed(seed)
        GPT2LMHeadModel(hf_cfg).save_pretrained(folder, safe_serialization=True)
    return folder / "model.safetensors"


def load_reference_gpt2(path: str | os.PathLike):
    """``transformers.GPT2LMHeadModel`` loaded by its own loader from the same file, in eval mode."""
    from transformers import GPT2Config, GPT2LMHeadModel

    path = Path(path)
    cfg = config_from_checkpoint(path)
    hf_cfg = GPT2Config(vocab_size=cfg.vocab_size, n_positions=cfg.context_length,
                        n_embd=cfg.d_model, n_layer=cfg.n_layers, n_head=cfg.n_heads,
                        n_inner=cfg.ff_width, layer_norm_epsilon=cfg.ln_eps)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        folder = path.parent
        if not (folder / "config.json").exists():
            # OpenAI's file comes alone; transformers wants a config.json beside it.
            folder = Path(tmp)
            try:
                (folder / "model.safetensors").symlink_to(path.resolve())
            except OSError:  # no symlinks (some Windows set-ups): copy instead
                shutil.copyfile(path, folder / "model.safetensors")
            hf_cfg.save_pretrained(folder)
        with _quiet_transformers():
            model = GPT2LMHeadModel.from_pretrained(folder, config=hf_cfg, local_files_only=True)
    return model.eval()


@contextmanager
def _quiet_transformers():
    """Hide transformers' own progress bars (they would only clutter the chapter)."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
