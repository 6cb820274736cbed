"""ONNX pieces of the transformer kind: the traced module and the ONNX Runtime session.

Nothing here imports torch at module level: the slim install (no torch) runs the shipped model on ONNX Runtime.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from imdb_sentiment.errors import ModelError


def logits_only(network: Any) -> Any:
    """Wrap a Hugging Face model so that the traced graph returns the logits tensor only."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.network(input_ids=input_ids, attention_mask=attention_mask).logits

    return LogitsOnly()


def onnx_available() -> bool:
    """Whether ONNX Runtime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def onnx_session(path: Path) -> Any:
    try:
        import onnxruntime as ort
    except ImportError:
        raise ModelError(
            f"{path} is an ONNX model; install the onnx extra: pip install 'imdb-sentiment[onnx]'"
        ) from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
