"""Kind ``transformer``: a fine-tuned BERT-family encoder, with PyTorch or ONNX Runtime inference.

Long reviews. A third of IMDb reviews are longer than 256 word pieces. Reviews are tokenised once, in
full and without special tokens, and then cut to size (``windows.py``): ``head_tail`` (the default in
training: the start and the end of the review, where reviewers sum up), ``head``, or ``chunks`` (the
default in inference: overlapping windows that cover the whole review; in training every window carries
its review's label, in inference the windows' logits are averaged).

Training and inference may cut differently (``truncation`` and ``inference_truncation``). The CPU config
trains on head + tail, which costs one window per review, and predicts from chunks, which sees the whole
review: on the 1,012 validation reviews longer than 254 word pieces that was 91.9% right against 90.5%
for head + tail, for 2.7 times the inference time on those reviews. To trade that back for speed on a
saved model, with its validation metrics re-scored: ``imdb-sentiment reconfigure MODEL_DIR --set
inference_truncation=head_tail --out DIR`` (:func:`~imdb_sentiment.training.reconfigure`).

A saved model holds ``model/`` (Hugging Face ``config.json``, ``model.safetensors`` and the tokenizer).
:meth:`TransformerClassifier.export_onnx` writes a folder with ``model.onnx`` instead of the safetensors,
which loads as the same kind and runs on ONNX Runtime.

The modules, each importing only those listed before it (and none of them torch at import time):

- ``bases``: the pretrained encoders to start from, found offline in installed packages;
- ``windows``: the tokenizer, word pieces, windows and padding;
- ``network``: the PyTorch network: where it is saved, loading it, the device, its forward pass;
- ``scoring``: windows batched through a backend and averaged per review;
- ``crops``: teacher-weighted sentence crops of training reviews;
- ``checkpoint``: the resumable training state;
- ``training``: the fine-tuning loop;
- ``attribution``: integrated gradients, attention weights and word occlusion;
- ``onnx``: ONNX export, int8 quantisation and the ONNX Runtime session;
- ``model``: :class:`TransformerClassifier`, the model contract over all of them.
"""

from __future__ import annotations

from imdb_sentiment.models.transformer.model import TransformerClassifier

__all__ = ["TransformerClassifier"]
