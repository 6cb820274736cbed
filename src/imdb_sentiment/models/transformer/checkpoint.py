"""Resumable training: the checkpoint folder, and where it lives.

Running the same training again after an interruption resumes where it stopped, because the default
folder is named after what determines the result (the config and the training data). torch is imported
only where a checkpoint is written or read.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment._atomic import atomic_dir, write_json
from imdb_sentiment.data import cache_dir
from imdb_sentiment.models.transformer.config import TransformerConfig

# Keys that change how training runs, not what it computes: they do not name a different checkpoint.
_NOT_IN_CHECKPOINT_KEY = ("checkpoint_steps", "checkpoint_dir", "inference_batch_size", "device")


def checkpoint_dir(cfg: TransformerConfig, texts: Sequence[str], labels: np.ndarray) -> Path:
    """The checkpoint folder of a training run: ``cfg.checkpoint_dir``, else one in the cache named after
    the config (less the keys that do not change the result) and the training data."""
    if cfg.checkpoint_dir:
        return Path(cfg.checkpoint_dir).expanduser()
    # Named after what determines the result (config and training data), so that re-running the
    # same training resumes, and any other training starts afresh.
    digest = hashlib.sha256()
    key = {k: v for k, v in cfg.to_dict().items() if k not in _NOT_IN_CHECKPOINT_KEY}
    digest.update(json.dumps(key, sort_keys=True).encode())
    digest.update(labels.tobytes())
    for text in texts:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return cache_dir() / "checkpoints" / f"transformer-{digest.hexdigest()[:16]}"


class Checkpoint:
    """A resumable training state in one folder, replaced atomically at each save.

    Holds the current weights and the best ones so far (safetensors), the optimiser, scheduler and random
    number generator states (``torch.save`` of tensors and numbers only, read back with
    ``weights_only=True``, which refuses anything else), and the loop's position (``state.json``).

    Args:
        folder: Where the state is kept.
        verbose: Kept for callers that report what the checkpoint does.
    """

    def __init__(self, folder: Path, *, verbose: bool) -> None:
        self.folder = folder
        self.verbose = verbose

    def save(
        self, network: Any, optimizer: Any, scheduler: Any, state: dict[str, Any], best: dict[str, Any] | None
    ) -> None:
        """Write the whole training state (``best``: the best weights so far, if any)."""
        import torch
        from safetensors.torch import save_file

        with atomic_dir(self.folder) as tmp:
            save_file({k: v.contiguous() for k, v in network.state_dict().items()}, tmp / "current.safetensors")
            if best is not None:
                save_file({k: v.contiguous() for k, v in best.items()}, tmp / "best.safetensors")
            torch.save(
                {
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state(),
                },
                tmp / "training_state.pt",
            )
            write_json(tmp / "state.json", state)

    def restore(self, network: Any, optimizer: Any, scheduler: Any) -> dict[str, Any] | None:
        """Load a saved state into ``network``, ``optimizer`` and ``scheduler``.

        Returns:
            The loop's position, or ``None`` when there is no checkpoint (nothing is changed).
        """
        if not (self.folder / "state.json").is_file():
            return None
        import torch
        from safetensors.torch import load_file

        state: dict[str, Any] = json.loads((self.folder / "state.json").read_text(encoding="utf-8"))
        device = next(network.parameters()).device
        network.load_state_dict(load_file(self.folder / "current.safetensors", device=str(device)))
        saved = torch.load(self.folder / "training_state.pt", weights_only=True, map_location=device)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"].cpu())
        return state

    def best_weights(self) -> dict[str, Any] | None:
        """The best weights saved so far, or ``None``."""
        from safetensors.torch import load_file

        file = self.folder / "best.safetensors"
        return load_file(file) if file.is_file() else None

    def discard(self) -> None:
        """Delete the checkpoint (training finished)."""
        shutil.rmtree(self.folder, ignore_errors=True)
