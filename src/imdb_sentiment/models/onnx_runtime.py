"""ONNX pieces of the transformer kind: the traced module and the ONNX Runtime session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from imdb_sentiment.errors import ModelError


class LogitsOnly(torch.nn.Module):
    """Wraps a Hugging Face model so that the traced graph returns the logits tensor only."""

    def __init__(self, network: Any) -> None:
        super().__init__()
        self.network = network

    def forward(self, input_ids: Any, attention_mask: Any) -> Any:
        return self.network(input_ids=input_ids, attention_mask=attention_mask).logits


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
