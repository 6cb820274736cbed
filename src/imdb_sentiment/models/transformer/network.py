"""The PyTorch network: where a saved model keeps it, loading it, the device, and its forward pass.

torch and transformers are imported inside the functions only: the slim install (no torch) imports this
module to find out whether a saved folder has PyTorch weights at all.

Every ``from_pretrained`` here reads local safetensors only and never runs code from the folder
(``trust_remote_code=False``, ``use_safetensors=True``; ``local_files_only=True`` for a folder), and a
folder whose config asks for its own code (``auto_map``) is refused before transformers sees it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment.errors import ModelError
from imdb_sentiment.labels import LABELS
from imdb_sentiment.models.manifest import one_line

#: The folder of a saved model that holds the Hugging Face files (config, weights, tokenizer).
MODEL_DIR = "model"
#: PyTorch weights in ``model/``; a folder without them is ONNX only.
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
#: The Hugging Face files in which ``auto_map`` names classes to import from the folder's own ``.py`` files.
_CODE_MAPS = ("config.json", "tokenizer_config.json", "preprocessor_config.json")


def check_model_dir(folder: Path) -> Path:
    """Return ``folder`` if it is a Hugging Face model folder that names no code of its own.

    Raises:
        ModelError: ``folder`` is missing (transformers would take its name for a hub model and go
            online), or one of its configs has an ``auto_map`` (classes to import from the folder).
    """
    if not folder.is_dir():
        raise ModelError(f"{folder} is missing: a transformer model keeps its config and tokenizer there")
    for name in _CODE_MAPS:
        file = folder / name
        if not file.is_file():
            continue
        try:
            config = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{file} is not valid JSON ({one_line(exc)})") from None
        if isinstance(config, dict) and "auto_map" in config:
            raise ModelError(
                f"{file} asks to run code from the model folder (auto_map); imdb-sentiment never runs a "
                "model's own code: remove auto_map or use a model built from transformers' own classes"
            )
    return folder


def has_weights(folder: Path) -> bool:
    """Whether a saved model folder keeps PyTorch weights in ``model/`` (an ONNX-only export does not)."""
    return any((folder / MODEL_DIR / name).is_file() for name in WEIGHT_FILES)


def torch_device(wanted: str) -> Any:
    """The ``torch.device`` for the config's ``device`` (``"auto"``: the GPU when torch sees one).

    Raises:
        ModelError: ``cuda`` is asked for but torch sees no GPU.
    """
    import torch

    if wanted == "cuda" and not torch.cuda.is_available():
        raise ModelError("device=cuda was asked for, but torch sees no GPU")
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(wanted)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' info and warning logs and its progress bars for the block."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    logging.set_verbosity_error()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


@contextlib.contextmanager
def eager_attention(network: Any) -> Iterator[Any]:
    """Run ``network`` with transformers' plain ("eager") attention for the block, then switch back.

    Attention weights come only from eager attention; and an ONNX graph traced from it is simpler and
    faster on ONNX Runtime than one traced from the fused kernel (bench/transformer_cpu.py).
    """
    current = getattr(network.config, "_attn_implementation", None)
    try:
        network.set_attn_implementation("eager")
        yield network
    finally:
        if current:
            network.set_attn_implementation(current)


def load_base(source: str, *, seed: int) -> Any:
    """The base model ``source`` as a two-label classifier in float32, ready to fine-tune.

    Args:
        source: A folder or hub name (:func:`~imdb_sentiment.models.transformer.bases.resolve_base_model`).
        seed: Seeds torch, from which a new classification head is initialised.
    """
    import torch
    from transformers import AutoModelForSequenceClassification

    local = Path(source).is_dir()
    if local:
        check_model_dir(Path(source))
    torch.manual_seed(seed)  # the new classification head is initialised from this
    with quiet_transformers():  # its report that the classification head is new is expected
        # float32 whatever the base holds: training on from the shipped model starts from float16 weights.
        return AutoModelForSequenceClassification.from_pretrained(
            source,
            num_labels=2,
            id2label=dict(enumerate(LABELS)),
            label2id={v: k for k, v in enumerate(LABELS)},
            dtype=torch.float32,
            local_files_only=local,
            trust_remote_code=False,
            use_safetensors=True,
        )


def keep_layers(network: Any, layers: tuple[int, ...]) -> None:
    """Keep only ``layers`` of ``network``'s encoder, in that order (a smaller student; empty: all).

    Raises:
        ModelError: the network has no BERT-style layer stack (``encoder.layer``), or a layer it lacks is named.
    """
    if not layers:
        return
    import torch

    encoder: Any = getattr(network.base_model, "encoder", None)
    stack = getattr(encoder, "layer", None)
    if not isinstance(stack, torch.nn.ModuleList):
        raise ModelError(f"layers= needs a BERT-style encoder (encoder.layer), which {type(network).__name__} lacks")
    if max(layers) >= len(stack):
        raise ModelError(f"layers= names layer {max(layers)}, but the base has {len(stack)} (0-{len(stack) - 1})")
    encoder.layer = torch.nn.ModuleList(stack[i] for i in layers)
    # The saved config must say how many layers there are, or loading the weights back fails.
    network.config.num_hidden_layers = len(layers)


def has_trained_head(network: Any) -> bool:
    """Whether ``network`` came with a trained classification head (a base saved by this kind)."""
    architectures = network.config.architectures or []
    return any(a.endswith("ForSequenceClassification") for a in architectures)


def n_parameters(network: Any) -> int:
    """How many parameters ``network`` has."""
    return sum(p.numel() for p in network.parameters())


def load_saved(folder: Path, *, purpose: str, device: str) -> Any:
    """The PyTorch network of the saved model ``folder``, in float32, on ``device``, in eval mode.

    Args:
        folder: A saved model folder (its weights are in ``model/``).
        purpose: What needs the network, for the error message ("explanations").
        device: The config's ``device``.

    Raises:
        ModelError: the folder has no PyTorch weights (an ONNX-only copy) or they cannot be read, its config
            names code of its own, or torch or transformers is missing.
    """
    check_model_dir(folder / MODEL_DIR)
    if not has_weights(folder):
        raise ModelError(
            f"{purpose} need the PyTorch weights, which this ONNX-only copy lacks; "
            "use the model it was exported from (or export with --keep-weights)"
        )
    try:
        import torch
        from transformers import AutoModelForSequenceClassification
    except ImportError:
        raise ModelError(f"{purpose} need PyTorch and transformers: pip install 'imdb-sentiment[train]'") from None
    try:
        with quiet_transformers():
            # float32 whatever the file holds: a shipped model keeps its weights in float16 to halve their size.
            network = AutoModelForSequenceClassification.from_pretrained(
                folder / MODEL_DIR,
                dtype=torch.float32,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True,
            )
    except Exception as exc:  # a truncated or altered file: whatever transformers raises, in one line
        if "ignore_mismatched_sizes" in str(exc):  # its own advice points at a report it logged (silenced here)
            raise ModelError(f"{folder / MODEL_DIR}: the weights do not have the shapes its config.json gives") from exc
        raise ModelError(f"{folder / MODEL_DIR} could not be loaded: {one_line(exc)}") from exc
    return network.to(torch_device(device)).eval()


def forward(network: Any, ids: Any, mask: Any, device: Any, *, grad: bool = False) -> Any:
    """The logits tensor for a padded batch; bfloat16 autocast on a GPU; no autograd unless ``grad``."""
    import torch

    ids, mask = ids.to(device), mask.to(device)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        if grad:
            return network(input_ids=ids, attention_mask=mask).logits
        with torch.inference_mode():
            return network(input_ids=ids, attention_mask=mask).logits


def batch_logits(network: Any, ids: np.ndarray, mask: np.ndarray, device: Any) -> np.ndarray:
    """Float64 logits ``(n, 2)`` of a padded batch given as numpy arrays."""
    import torch

    out = forward(network, torch.as_tensor(ids), torch.as_tensor(mask), device)
    return out.float().cpu().numpy().astype(np.float64)


def batch_outputs(network: Any, ids: np.ndarray, mask: np.ndarray, device: Any) -> tuple[np.ndarray, np.ndarray]:
    """Float64 logits ``(n, 2)`` and float32 features ``(n, hidden)`` (the last layer at the first token,
    what an exported graph's ``features`` output holds) of a padded batch."""
    import torch

    with torch.inference_mode():
        out = network(
            input_ids=torch.as_tensor(ids).to(device),
            attention_mask=torch.as_tensor(mask).to(device),
            output_hidden_states=True,
        )
    features = out.hidden_states[-1][:, 0].float().cpu().numpy()
    return out.logits.float().cpu().numpy().astype(np.float64), features
