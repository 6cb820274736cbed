"""The parts of the transformer's PyTorch training loop that are not about transformers.

Optimiser parameter groups, a stratified subset, length-grouped batches, progress bars, and the resumable
checkpoint. torch is imported only where a checkpoint is written or read: inference with ONNX Runtime
imports this module for its progress bars and must work without torch installed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment._atomic import atomic_dir, write_json


def parameter_groups(network: Any, weight_decay: float) -> list[dict[str, Any]]:
    # The usual BERT recipe: no weight decay on biases and LayerNorm weights.
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, parameter in network.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def stratified_subset(texts: Sequence[str], labels: np.ndarray, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(texts)), train_size=n, stratify=labels, random_state=seed)
    keep = np.sort(keep)
    return [texts[i] for i in keep], labels[keep]


def length_grouped_batches(inputs: Sequence[list[int]], batch_size: int, *, seed: int) -> list[np.ndarray]:
    """Shuffled batches of inputs of similar length: shuffle, sort within pools of 50 batches, shuffle batches."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(inputs))
    pool = 50 * batch_size
    batches: list[np.ndarray] = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort([-len(inputs[j]) for j in chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def progress(*, total: int, desc: str, enabled: bool, initial: int = 0) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="batch" if desc != "scoring" else "input",
        disable=not enabled,
        dynamic_ncols=True,
    )


class Checkpoint:
    """A resumable training state in one folder, replaced atomically at each save.

    Holds the current weights and the best ones so far (safetensors), the optimiser, scheduler and random
    number generator states (``torch.save`` of tensors and numbers only, read back with
    ``weights_only=True``, which refuses anything else), and the loop's position (``state.json``).
    """

    def __init__(self, folder: Path, *, verbose: bool) -> None:
        self.folder = folder
        self.verbose = verbose

    def save(
        self, network: Any, optimizer: Any, scheduler: Any, state: dict[str, Any], best: dict[str, Any] | None
    ) -> None:
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
        from safetensors.torch import load_file

        file = self.folder / "best.safetensors"
        return load_file(file) if file.is_file() else None

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
