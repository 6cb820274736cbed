"""ONNX: exporting the network to an ONNX graph (optionally int8), and running one on ONNX Runtime.

An exported folder holds ``model.onnx`` beside ``model/`` (Hugging Face ``config.json`` and the
tokenizer, and the PyTorch weights too when they are kept); it loads as the same kind. Nothing here
imports torch at module level: the slim install (no torch) runs the shipped model on ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment.errors import ModelError
from imdb_sentiment.models.transformer.network import MODEL_DIR, eager_attention, quiet_transformers
from imdb_sentiment.models.transformer.windows import PieceTokenizer

#: The ONNX graph in a saved model folder.
ONNX_FILE = "model.onnx"
#: The graph's second output: each input's last-layer vector at its first token (what the classifier
#: head reads), for a rating head (:mod:`imdb_sentiment.models.rating`).
FEATURES = "features"
#: What ``keep_weights`` may be: no PyTorch weights, or weights in half or full precision.
KEEP_WEIGHTS = ("", "float16", "float32")


def onnx_available() -> bool:
    """Whether ONNX Runtime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class OnnxSession:
    """An ONNX Runtime inference session on the CPU, scoring padded batches.

    Args:
        path: The ``model.onnx`` file.
        threads: Threads per call (``None``: one per core).

    Raises:
        ModelError: onnxruntime is not installed.
    """

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        self.path, self.threads = path, threads
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelError(
                f"{path} is an ONNX model; install the onnx extra: pip install 'imdb-sentiment[onnx]'"
            ) from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        #: Whether the graph also returns each input's features (graphs exported before it did not).
        self.has_features = FEATURES in {o.name for o in self.session.get_outputs()}

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Float64 logits ``(n, 2)`` of a padded batch."""
        (logits,) = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(logits, dtype=np.float64)

    def outputs(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The logits and, when the graph has them, the features ``(n, hidden)`` of a padded batch."""
        if not self.has_features:
            return self(ids, mask), None
        logits, features = self.session.run(["logits", FEATURES], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(logits, dtype=np.float64), np.asarray(features, dtype=np.float32)


def check_export_dependencies() -> None:
    """Raise :class:`~imdb_sentiment.errors.ModelError` unless onnx and onnxruntime, which export needs, import.

    Raises:
        ModelError: onnx or onnxruntime is missing.
    """
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ModelError("ONNX export needs the onnx extra: pip install 'imdb-sentiment[onnx]'") from None


def write_onnx(
    network: Any,
    sample: tuple[np.ndarray, np.ndarray],
    tokenizer: PieceTokenizer,
    folder: Path,
    *,
    int8: bool = False,
    keep_weights: str = "",
    fused_attention: bool = False,
) -> None:
    """Write ``model.onnx`` and ``model/`` for ``network`` into ``folder`` (an empty temporary folder).

    Args:
        network: The PyTorch network, on the CPU, in eval mode.
        sample: A padded batch ``(input_ids, attention_mask)`` to trace the network with.
        tokenizer: Its files go into ``model/``.
        folder: Where to write.
        int8: Quantise the weights of the linear layers to int8.
        keep_weights: ``"float16"`` or ``"float32"``: also keep the PyTorch weights (safetensors) in that
            precision; empty: only ``config.json`` and the tokenizer.
        fused_attention: Trace the network's own attention kernel instead of eager attention (only
            ``bench/transformer_cpu.py`` does, to measure the difference).
    """
    import torch

    with quiet_transformers():  # for the config.json the exported folder needs
        state = None
        if keep_weights == "float16":
            state = {k: v.half() if v.is_floating_point() else v for k, v in network.state_dict().items()}
        network.save_pretrained(folder / "_torch", safe_serialization=True, state_dict=state)
    if keep_weights:
        shutil.move(folder / "_torch", folder / MODEL_DIR)
    else:
        (folder / MODEL_DIR).mkdir()
        shutil.move(folder / "_torch" / "config.json", folder / MODEL_DIR / "config.json")
        shutil.rmtree(folder / "_torch")
    tokenizer.copy_files(folder / MODEL_DIR)
    raw = folder / ("model.fp32.onnx" if int8 else ONNX_FILE)
    # Traced from eager attention: ONNX Runtime ran a trace of the fused kernel 1.25x slower as int8 on 2
    # AVX2 cores, its labels differing on 2 of 1,500 reviews (bench/transformer_cpu.py).
    attention = contextlib.nullcontext() if fused_attention else eager_attention(network)
    with attention, torch.inference_mode(), warnings.catch_warnings():
        # The tracer warns about Python conditionals in transformers' masking code; they depend
        # only on shapes that stay dynamic here, which the tests check against PyTorch.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _logits_and_features(network),
            (torch.as_tensor(sample[0]), torch.as_tensor(sample[1])),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits", FEATURES],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "logits": {0: "batch"},
                FEATURES: {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
    if int8:
        quantize_int8(raw, folder / ONNX_FILE)
        raw.unlink()


def quantize_int8(source: Path, target: Path) -> None:
    """Write ``target``: the graph ``source`` with the weights of its linear layers quantised to int8.

    One scale per output channel, not per tensor: on 1,000 validation reviews per-tensor int8 lost 1.4
    points against float32 ONNX, per-channel 0.1, at the same size and about 15% more scoring time.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process applies to convolutional models
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)


def _logits_and_features(network: Any) -> Any:
    """Wrap a Hugging Face model so that the traced graph returns two tensors: the logits and the features."""
    import torch

    class LogitsAndFeatures(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            out = self.network(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
            return out.logits, out.hidden_states[-1][:, 0]

    return LogitsAndFeatures()
