"""The book's own Python package: the pieces each chapter builds, kept once.

One module per concept, in the order the book builds them:

* :mod:`shared.data`       corpus download, GPT-2 tokenizer, split, batches (Chapter 1)
* :mod:`shared.model`      embeddings, positions, attention, the block, the GPT (Chapters 2-6)
* :mod:`shared.runs`       a training run's settings and record (Chapter 7)
* :mod:`shared.evaluation` the validation loss and bits per byte (Chapter 7)
* :mod:`shared.training`   the training loop, its schedule and optimizer (Chapter 7)
* :mod:`shared.checkpoints` saving and loading models and runs, atomically and safely (Chapter 7)
* :mod:`shared.book`       the book model's recipe and its shipped weights (Chapters 7-9)
* :mod:`shared.generation` sampling and generation with a KV cache (Chapter 8)
* :mod:`shared.pretrained` loading OpenAI's GPT-2 weights into our model (Chapter 9)
* :mod:`shared.plotting`   the book's figure style and heatmaps
* :mod:`shared.widgets`    slider figures that work in Jupyter and in the static book
* :mod:`shared.explorer`   the next-token explorer: sampling settings as live sliders (Chapter 8)
* :mod:`shared.scaling`    what training costs: FLOPs, memory, time per step (Chapter 10)
* :mod:`shared.distributed` one model on several processes: DDP, FSDP, torchrun (Chapter 10)
* :mod:`shared.checks`     ``check_...(your_function)``: exercises that test the reader's code
"""

import random

import numpy as np
import torch

__all__ = ["SEED", "set_seed"]

SEED = 1337  #: the book's one seed: batches, initialisations and samples start from it


def set_seed(seed: int = SEED) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded the same way."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
