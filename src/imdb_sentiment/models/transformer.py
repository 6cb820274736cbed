"""Kind ``transformer``: a fine-tuned BERT-family encoder, with PyTorch or ONNX Runtime inference.

Long reviews. A third of IMDb reviews are longer than 256 word pieces. Reviews are tokenised once, in
full and without special tokens (so the tokenizer never warns that a sequence is longer than the model
accepts), and then cut to size here:

- ``head_tail`` (the default in training): the first ``head_fraction`` of the budget from the start of
  the review and the rest from its end, which is where reviewers sum up (Sun et al. 2019);
- ``head``: the start only;
- ``chunks`` (the default in inference): evenly spaced windows that overlap by at least ``stride`` word
  pieces and cover the whole review (at most ``max_chunks``); in training every window carries its
  review's label, in inference the windows' logits are averaged.

Training and inference may cut differently (``truncation`` and ``inference_truncation``). The CPU config
trains on head + tail, which costs one window per review, and predicts from chunks, which sees the whole
review: on the 1,012 validation reviews longer than 254 word pieces that was 91.9% right against 90.5%
for head + tail, for 2.7 times the inference time on those reviews. To trade that back for speed on a
saved model, with its validation metrics re-scored: ``imdb-sentiment reconfigure MODEL_DIR --set
inference_truncation=head_tail --out DIR`` (:func:`~imdb_sentiment.training.reconfigure`).

Training is a plain PyTorch loop: AdamW, linear warm-up and decay, gradient accumulation, batches of
reviews of similar length (little padding), validation after each epoch with early stopping on the
validation loss (the best weights are kept), and a resumable checkpoint every ``checkpoint_steps``
optimiser steps: running the same training again after an interruption resumes where it stopped.

A saved model holds ``model/`` (Hugging Face ``config.json``, ``model.safetensors`` and the tokenizer).
:meth:`TransformerClassifier.export_onnx` writes a folder with ``model.onnx`` instead of the safetensors,
which loads as the same kind and runs on ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import shutil
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.special import log_softmax, softmax

from imdb_sentiment._atomic import atomic_dir
from imdb_sentiment.config import TransformerConfig
from imdb_sentiment.errors import ModelError
from imdb_sentiment.explain import Explanation, check_steps, fold_onto_words, make_explanation
from imdb_sentiment.models.base import LABELS, SentimentModel, check_texts
from imdb_sentiment.models.onnx_runtime import logits_only, onnx_available, onnx_session
from imdb_sentiment.models.training_loop import (
    Checkpoint,
    length_grouped_batches,
    parameter_groups,
    progress,
    stratified_subset,
)
from imdb_sentiment.text import normalize, normalize_with_offsets

_MODEL_DIR = "model"
_ONNX_FILE = "model.onnx"
#: PyTorch weights in ``model/``; a folder without them is ONNX only.
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")
#: What a saved model keeps of the tokenizer (tokenizer.json is what loading needs; the rest lets
#: transformers' AutoTokenizer read the folder too).
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
# Keys that change how training runs, not what it computes: they do not name a different checkpoint.
_NOT_IN_CHECKPOINT_KEY = ("checkpoint_steps", "checkpoint_dir", "inference_batch_size", "device")


class TransformerClassifier(SentimentModel):
    """Fine-tuned ``AutoModelForSequenceClassification``.

    Args:
        config: A :class:`~imdb_sentiment.config.TransformerConfig` (defaults if ``None``).
        verbose: Show progress bars and what training is doing.

    Attributes:
        network_: the PyTorch model (``None`` for an ONNX-backed model, which loads it only for an
            explanation, from the weights kept beside the ONNX graph).
        backend_: ``"torch"`` or ``"onnx"``.
    """

    kind: ClassVar[str] = "transformer"
    config_class: ClassVar[type[TransformerConfig]] = TransformerConfig
    # How reviews are cut and batched for prediction; ``stride`` and ``max_chunks`` shape only the inference
    # windows of a model trained on ``head_tail`` or ``head`` (the manifest keeps the values it trained with).
    inference_keys: ClassVar[tuple[str, ...]] = (
        "inference_truncation",
        "stride",
        "max_chunks",
        "inference_batch_size",
        "device",
    )

    #: The PyTorch network an ONNX-backed model loads on first need (an explanation, an export).
    _lazy_network: Any = None

    def __init__(self, *, config: TransformerConfig | None = None, verbose: bool = False):
        super().__init__(config=config)
        self.verbose = verbose

    @property
    def _cfg(self) -> TransformerConfig:
        cfg = self.resolved_config
        assert isinstance(cfg, TransformerConfig)
        return cfg

    # ----------------------------------------------------------------------------- tokenising
    def _word_pieces(self, texts: Sequence[str]) -> list[list[int]]:
        """Word-piece ids of each whole review, without special tokens."""
        encodings = self._backend_tokenizer.encode_batch([normalize(t) for t in texts], add_special_tokens=False)
        return [e.ids for e in encodings]

    def _window_positions(self, n: int, *, training: bool = False) -> list[np.ndarray]:
        """Which of a review's ``n`` word pieces go into each model input, per the truncation in force."""
        cfg = self._cfg
        truncation = cfg.truncation if training else cfg.inference_truncation or cfg.truncation
        budget = cfg.max_length - self._n_special
        if n <= budget:
            return [np.arange(n)]
        if truncation == "head":
            return [np.arange(budget)]
        if truncation == "head_tail":
            head = round(budget * cfg.head_fraction)
            return [np.concatenate((np.arange(head), np.arange(n - (budget - head), n)))]
        step = budget - cfg.stride
        count = min(cfg.max_chunks, math.ceil((n - cfg.stride) / step))
        starts = np.linspace(0, n - budget, count).round().astype(int)
        return [np.arange(s, s + budget) for s in starts]

    def _windows(self, ids: list[int], *, training: bool = False) -> list[list[int]]:
        """The model inputs (special tokens added) for one review's word pieces, per the truncation."""
        positions = self._window_positions(len(ids), training=training)
        return [[*self._prefix, *(ids[i] for i in p), *self._suffix] for p in positions]

    def _rows(self, texts: Sequence[str], *, training: bool = False) -> tuple[list[list[int]], np.ndarray]:
        """Model inputs for ``texts`` and, per input, the index of the review it comes from."""
        return self._piece_rows(self._word_pieces(texts), training=training)

    def _piece_rows(self, pieces: Sequence[list[int]], *, training: bool = False) -> tuple[list[list[int]], np.ndarray]:
        """Model inputs for reviews given as word-piece ids, and the review each input comes from."""
        inputs, owners = [], []
        for i, ids in enumerate(pieces):
            windows = self._windows(ids, training=training)
            inputs.extend(windows)
            owners.extend([i] * len(windows))
        return inputs, np.asarray(owners, dtype=np.int64)

    def _pad(self, rows: Sequence[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for j, row in enumerate(rows):
            ids[j, : len(row)] = row
            mask[j, : len(row)] = 1
        return ids, mask

    # ----------------------------------------------------------------------------- set-up
    def _setup(self, source: str | Path) -> None:
        """Load the tokenizer from ``source`` and remember what windowing needs.

        Only the Rust ``tokenizers`` library is used (``tokenizer.json``, plus the padding token named in
        ``tokenizer_config.json``), not transformers: ONNX inference then needs neither it nor torch.
        """
        try:
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelError("the transformer kind needs tokenizers: pip install 'imdb-sentiment'") from None

        self._tokenizer_source = Path(source)
        file = self._tokenizer_source / "tokenizer.json"
        if not file.is_file():
            raise ModelError(f"{source} has no fast (Rust) tokenizer; a tokenizer.json is needed")
        # Without the truncation or padding some tokenizer.json files switch on: reviews are tokenised
        # whole and cut to size by _windows.
        self._backend_tokenizer = Tokenizer.from_file(str(file))
        self._backend_tokenizer.no_truncation()
        self._backend_tokenizer.no_padding()
        # The special tokens around a single sequence ([CLS] ... [SEP] for BERT, <s> ... </s> for MPNet),
        # read off the tokenizer's own post-processor: encode one word with and without them.
        bare = self._backend_tokenizer.encode("a", add_special_tokens=False).ids
        full = self._backend_tokenizer.encode("a", add_special_tokens=True).ids
        at = next(i for i in range(len(full)) if full[i : i + len(bare)] == bare)
        self._prefix, self._suffix = full[:at], full[at + len(bare) :]
        self._n_special = len(self._prefix) + len(self._suffix)
        self._pad_id = _pad_token_id(self._tokenizer_source, self._backend_tokenizer)
        if self._cfg.max_length - self._n_special <= self._cfg.stride:
            raise ModelError("max_length leaves no room for the review after the special tokens and stride")

    def _device(self) -> Any:
        import torch

        wanted = self._cfg.device
        if wanted == "cuda" and not torch.cuda.is_available():
            raise ModelError("device=cuda was asked for, but torch sees no GPU")
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(wanted)

    # ----------------------------------------------------------------------------- training
    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],
    ) -> dict[str, list[float]]:
        import torch
        from transformers import AutoModelForSequenceClassification

        from imdb_sentiment.base_models import resolve_base_model

        cfg = self._cfg
        source = resolve_base_model(cfg.base_model)
        self._setup(source)
        torch.manual_seed(cfg.seed)  # the new classification head is initialised from this
        with _quiet_transformers():  # its report that the classification head is new is expected
            # float32 whatever the base holds: training on from the shipped model starts from float16 weights.
            self.network_ = AutoModelForSequenceClassification.from_pretrained(
                source,
                num_labels=2,
                id2label=dict(enumerate(LABELS)),
                label2id={v: k for k, v in enumerate(LABELS)},
                dtype=torch.float32,
                local_files_only=Path(source).is_dir(),
                trust_remote_code=False,
            )
        # A base saved by this kind (training on from a fine-tuned model) keeps its trained head.
        architectures = self.network_.config.architectures or []
        head = "its trained" if any(a.endswith("ForSequenceClassification") for a in architectures) else "a new"
        self._say(
            f"fine-tuning {cfg.base_model or 'all-MiniLM-L6-v2'} ({_parameters(self.network_) / 1e6:.1f}M "
            f"parameters) with {head} classification head"
        )
        self.backend_ = "torch"
        device = self._device()
        self.network_.to(device)

        all_texts, all_labels = texts, labels
        if cfg.subset and cfg.subset < len(texts):
            texts, labels = stratified_subset(texts, labels, cfg.subset, cfg.seed)
        whole_validation = True
        if validation is not None and cfg.eval_subset and cfg.eval_subset < len(validation[0]):
            validation = stratified_subset(*validation, cfg.eval_subset, cfg.seed)
            whole_validation = False
        self._say(f"tokenising {len(texts):,} training reviews ...")
        inputs, owners = self._rows(texts, training=True)
        row_labels = labels[owners]
        row_weights = np.ones(len(inputs))
        if cfg.crops:
            inputs, row_labels, row_weights = self._add_crops(inputs, row_labels, row_weights, all_texts, all_labels)
        batches_per_epoch = math.ceil(len(inputs) / cfg.batch_size)
        steps_per_epoch = math.ceil(batches_per_epoch / cfg.grad_accum)
        total_steps = cfg.epochs * steps_per_epoch
        if cfg.max_steps:
            total_steps = min(total_steps, cfg.max_steps)

        optimizer = torch.optim.AdamW(parameter_groups(self.network_, cfg.weight_decay), lr=cfg.learning_rate)
        from transformers import get_linear_schedule_with_warmup

        scheduler = get_linear_schedule_with_warmup(optimizer, round(cfg.warmup_ratio * total_steps), total_steps)
        checkpoint = Checkpoint(self._checkpoint_dir(texts, labels), verbose=self.verbose)
        state = checkpoint.restore(self.network_, optimizer, scheduler) or {
            "epoch": 0,
            "batch": 0,
            "step": 0,
            "history": {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []},
            "best_val_loss": None,
            "bad_epochs": 0,
        }
        if state["step"]:
            self._say(f"resuming from the checkpoint in {checkpoint.folder} at optimiser step {state['step']}")
        history: dict[str, list[float]] = state["history"]
        best_weights = checkpoint.best_weights() if state["best_val_loss"] is not None else None
        done = state["step"] >= total_steps
        for epoch in range(state["epoch"], cfg.epochs):
            if done:
                break
            order = length_grouped_batches(inputs, cfg.batch_size, seed=cfg.seed + epoch)
            self.network_.train()
            loss_sum, correct, seen = 0.0, 0, 0
            bar = progress(
                total=len(order), initial=state["batch"], desc=f"epoch {epoch + 1}/{cfg.epochs}", enabled=self.verbose
            )
            for b in range(state["batch"], len(order)):
                ids, mask = self._pad([inputs[j] for j in order[b]])
                target = torch.as_tensor(row_labels[order[b]], device=device)
                weight = torch.as_tensor(row_weights[order[b]], dtype=torch.float32, device=device)
                logits = self._torch_logits(torch.as_tensor(ids), torch.as_tensor(mask), device, grad=True)
                # Whole reviews weigh 1, crops their teacher weight (models/crops.py).
                loss = (torch.nn.functional.cross_entropy(logits.float(), target, reduction="none") * weight).mean()
                (loss / cfg.grad_accum).backward()
                loss_sum += loss.item() * len(order[b])
                correct += int((logits.argmax(-1) == target).sum())
                seen += len(order[b])
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}", refresh=False)
                if (b + 1) % cfg.grad_accum == 0 or b + 1 == len(order):
                    torch.nn.utils.clip_grad_norm_(self.network_.parameters(), 1.0)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    state["step"] += 1
                    state["batch"] = b + 1
                    if cfg.checkpoint_steps and state["step"] % cfg.checkpoint_steps == 0:
                        checkpoint.save(self.network_, optimizer, scheduler, state, best_weights)
                    if state["step"] >= total_steps:
                        done = True
                        break
            bar.close()
            history["loss"].append(loss_sum / max(seen, 1))
            history["accuracy"].append(correct / max(seen, 1))
            state.update(epoch=epoch + 1, batch=0)
            if validation is not None:
                start = time.perf_counter()
                val_logits = self._review_logits(validation[0])
                seconds = time.perf_counter() - start
                val_log_proba = log_softmax(val_logits, axis=1)
                val_loss = float(-val_log_proba[np.arange(len(validation[1])), validation[1]].mean())
                val_acc = float((val_logits.argmax(axis=1) == validation[1]).mean())
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_acc)
                self._say(f"epoch {epoch + 1}: validation loss {val_loss:.4f}, accuracy {val_acc:.4f}")
                if state["best_val_loss"] is None or val_loss < state["best_val_loss"]:
                    state.update(best_val_loss=val_loss, bad_epochs=0)
                    best_weights = {k: v.detach().to("cpu", copy=True) for k, v in self.network_.state_dict().items()}
                    if whole_validation:  # the kept weights' own validation scores: train() reuses them
                        self.validation_proba_ = np.exp(val_log_proba)
                        self.validation_seconds_ = seconds
                else:
                    state["bad_epochs"] += 1
                    if state["bad_epochs"] >= cfg.patience:
                        self._say(f"stopping early: no better validation loss for {state['bad_epochs']} epochs")
                        done = True
            checkpoint.save(self.network_, optimizer, scheduler, state, best_weights)
        if best_weights is not None:
            self.network_.load_state_dict(best_weights)
        self.network_.eval()
        checkpoint.discard()
        return {k: v for k, v in history.items() if v}

    def _add_crops(
        self,
        inputs: list[list[int]],
        row_labels: np.ndarray,
        row_weights: np.ndarray,
        texts: list[str],
        labels: np.ndarray,
    ) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
        """The training rows with ``crops`` weighted sentence crops of ``texts`` appended."""
        from imdb_sentiment.models.crops import weighted_crops

        cfg = self._cfg
        self._say(
            f"drawing {cfg.crops:,} sentence crops"
            + (" and weighing them by a teacher ..." if cfg.crop_teacher else " ...")
        )
        crops, crop_labels, weights = weighted_crops(
            texts, labels, cfg.crops, max_sentences=cfg.crop_sentences, teacher=cfg.crop_teacher, seed=cfg.seed
        )
        self._say(f"training on {len(crops):,} crops (mean weight {weights.mean() if len(weights) else 0:.2f})")
        crop_rows, crop_owners = self._rows(crops, training=True)
        return (
            inputs + crop_rows,
            np.concatenate([row_labels, crop_labels[crop_owners]]),
            np.concatenate([row_weights, weights[crop_owners]]),
        )

    def _checkpoint_dir(self, texts: Sequence[str], labels: np.ndarray) -> Path:
        cfg = self._cfg
        if cfg.checkpoint_dir:
            return Path(cfg.checkpoint_dir).expanduser()
        from imdb_sentiment.data import cache_dir

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

    # ----------------------------------------------------------------------------- inference
    def _torch_logits(self, ids: Any, mask: Any, device: Any, *, grad: bool = False) -> Any:
        import torch

        ids, mask = ids.to(device), mask.to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            if grad:
                return self.network_(input_ids=ids, attention_mask=mask).logits
            with torch.inference_mode():
                return self.network_(input_ids=ids, attention_mask=mask).logits

    def _batch_logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.backend_ == "onnx":
            (logits,) = self._session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
            return np.asarray(logits, dtype=np.float64)
        import torch

        out = self._torch_logits(torch.as_tensor(ids), torch.as_tensor(mask), self._device())
        return out.float().cpu().numpy().astype(np.float64)

    def _review_logits(self, texts: Sequence[str]) -> np.ndarray:
        """Logits ``(n, 2)`` per review: its windows' logits averaged."""
        return self._pieces_logits(self._word_pieces(texts))

    def _pieces_logits(self, pieces: Sequence[list[int]]) -> np.ndarray:
        """Logits ``(n, 2)`` per review given as word-piece ids: its windows' logits averaged."""
        inputs, owners = self._piece_rows(pieces)
        # Longest first, in batches of similar length: little padding, and memory peaks at the start.
        order = np.argsort([-len(r) for r in inputs], kind="stable")
        size = self._cfg.inference_batch_size
        logits = np.zeros((len(inputs), 2))
        if self.backend_ == "torch":
            self.network_.eval()
        bar = progress(total=len(inputs), desc="scoring", enabled=self.verbose and len(inputs) > 4 * size)
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            logits[batch] = self._batch_logits(*self._pad([inputs[j] for j in batch]))
            bar.update(len(batch))
        bar.close()
        sums = np.zeros((len(pieces), 2))
        np.add.at(sums, owners, logits)
        return sums / np.bincount(owners, minlength=len(pieces))[:, None]

    def decision_function(self, texts: Sequence[str]) -> np.ndarray:
        """The logit of *positive* against *negative* for each review."""
        self._check_fitted()
        items = check_texts(texts, allow_empty=True)
        if not items:
            return np.zeros(0)
        logits = self._review_logits(items)
        return logits[:, 1] - logits[:, 0]

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return softmax(self._review_logits(texts), axis=1)

    # ----------------------------------------------------------------------------- explaining
    def _explain(self, text: str, *, n_steps: int = 20, attention: bool = True, **options: Any) -> Explanation:
        """Captum ``LayerIntegratedGradients`` on the embedding layer, towards the log-odds of *positive*.

        The baseline keeps the special tokens and replaces every word piece by the padding token. With
        ``chunks``, each window is attributed and the attributions averaged, as its logits are. Word
        pieces are merged into the review's words by their character spans. With ``attention``, the
        attention weights of every layer and head for the first window are attached.
        """
        check_steps(n_steps)
        normalized, origins = normalize_with_offsets(text)
        encoding = self._backend_tokenizer.encode(normalized, add_special_tokens=False)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        spans = [(origins[a][0], origins[b - 1][1]) if b > a else (0, 0) for a, b in encoding.offsets]
        if not self._has_gradients():
            return self._explain_by_occlusion(text, ids, spans)
        network = self._torch_network("explanations")
        import torch
        from captum.attr import LayerIntegratedGradients

        windows = self._window_positions(len(ids))
        device = self._device()
        network.eval()

        def log_odds(input_ids: Any, attention_mask: Any) -> Any:
            logits = network(input_ids=input_ids, attention_mask=attention_mask).logits.float()
            return logits[:, 1] - logits[:, 0]

        explainer = LayerIntegratedGradients(log_odds, network.get_input_embeddings())
        per_piece = np.zeros(len(ids))
        deltas = []
        for positions in windows:
            row = [*self._prefix, *ids[positions].tolist(), *self._suffix]
            inputs = torch.as_tensor([row], device=device)
            baseline = inputs.clone()
            baseline[0, len(self._prefix) : len(row) - len(self._suffix)] = self._pad_id
            mask = torch.ones_like(inputs)
            attributions, delta = explainer.attribute(
                inputs, baselines=baseline, additional_forward_args=(mask,), n_steps=n_steps,
                internal_batch_size=max(1, min(n_steps, 4096 // len(row))), return_convergence_delta=True,
            )  # fmt: skip
            summed = attributions.sum(dim=-1)[0].detach().float().cpu().numpy()
            per_piece[positions] += summed[len(self._prefix) : len(row) - len(self._suffix)] / len(windows)
            deltas.append(float(delta[0]))
        tokens, unassigned = fold_onto_words(text, spans, per_piece)
        extra: dict[str, Any] = {}
        if attention:
            first = windows[0]
            row = [*self._prefix, *ids[first].tolist(), *self._suffix]
            extra["pieces"] = tuple(self._backend_tokenizer.id_to_token(i) or "" for i in row)
            extra["attention"] = self._attention(network, row)
        return make_explanation(
            text,
            float(self.predict_proba([text])[0, 1]),
            f"layer integrated gradients on the embeddings (Captum, {n_steps} steps, baseline: padding tokens)",
            tokens,
            details={
                "baseline": "special tokens kept, every word piece replaced by the padding token",
                "n_steps": n_steps,
                "convergence_delta": float(np.mean(np.abs(deltas))),
                "windows": len(windows),
                "pieces": len(ids),
                "pieces_used": len(np.unique(np.concatenate(windows))) if len(ids) else 0,
                "unassigned": unassigned,
            },
            **extra,
        )

    def _has_gradients(self) -> bool:
        """Whether integrated gradients can run: PyTorch weights, torch and Captum are all here."""
        if getattr(self, "network_", None) is None and not _has_weights(getattr(self, "_source", Path())):
            return False
        try:
            import captum  # noqa: F401
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            return False
        return True

    def _explain_by_occlusion(self, text: str, ids: np.ndarray, spans: list[tuple[int, int]]) -> Explanation:
        """Leave-one-word-out on ONNX Runtime, for an install without torch (see ``models/occlusion.py``)."""
        from imdb_sentiment.models.occlusion import MAX_WORDS, occlusion_attributions, piece_groups

        groups = piece_groups(text, spans)

        def log_odds(variants: list[list[int]]) -> np.ndarray:
            logits = self._pieces_logits(variants)
            return logits[:, 1] - logits[:, 0]

        per_piece = occlusion_attributions(ids.tolist(), groups, log_odds)
        tokens, unassigned = fold_onto_words(text, spans, per_piece)
        return make_explanation(
            text,
            float(self.predict_proba([text])[0, 1]),
            "word occlusion on ONNX Runtime (log-odds drop when each word is left out)",
            tokens,
            details={
                "words_occluded": min(len(groups), MAX_WORDS),
                "windows": len(self._window_positions(len(ids))),
                "pieces": len(ids),
                "unassigned": unassigned,
                "why": "integrated gradients need torch and the PyTorch weights, which this install lacks",
            },
        )

    def _attention(self, network: Any, row: list[int]) -> np.ndarray:
        """Attention weights ``(layers, heads, pieces, pieces)`` for one input (eager attention, which
        returns them; the fast kernels used otherwise do not)."""
        import torch

        current = getattr(network.config, "_attn_implementation", None)
        try:
            network.set_attn_implementation("eager")
            with torch.inference_mode():
                inputs = torch.as_tensor([row], device=self._device())
                out = network(input_ids=inputs, attention_mask=torch.ones_like(inputs), output_attentions=True)
            return np.stack([a[0].float().cpu().numpy() for a in out.attentions])
        finally:
            if current:
                network.set_attn_implementation(current)

    def _torch_network(self, purpose: str) -> Any:
        """The PyTorch network, loaded from the saved weights on first use by an ONNX-backed model."""
        if getattr(self, "network_", None) is not None:
            return self.network_
        lazy: Any = getattr(self, "_lazy_network", None)
        if lazy is not None:
            return lazy
        source = getattr(self, "_source", Path())
        if not _has_weights(source):
            raise ModelError(
                f"{purpose} need the PyTorch weights, which this ONNX-only copy lacks; "
                "use the model it was exported from (or export with --keep-weights)"
            )
        try:
            import torch
            from transformers import AutoModelForSequenceClassification
        except ImportError:
            raise ModelError(f"{purpose} need PyTorch and transformers: pip install 'imdb-sentiment[train]'") from None
        with _quiet_transformers():
            # float32 whatever the file holds: a shipped model keeps its weights in float16 to halve their size.
            network = AutoModelForSequenceClassification.from_pretrained(
                source / _MODEL_DIR, dtype=torch.float32, local_files_only=True, trust_remote_code=False
            )
        self._lazy_network = network.to(self._device()).eval()
        return self._lazy_network

    # ----------------------------------------------------------------------------- persistence
    def _save_weights(self, folder: Path) -> None:
        target = folder / _MODEL_DIR
        if self.backend_ == "onnx":
            shutil.copytree(self._source / _MODEL_DIR, target)
            shutil.copy2(self._source / _ONNX_FILE, folder / _ONNX_FILE)
            return
        with _quiet_transformers():
            self.network_.save_pretrained(target, safe_serialization=True)
        self._copy_tokenizer(target)

    def _copy_tokenizer(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for name in _TOKENIZER_FILES:
            if (self._tokenizer_source / name).is_file():
                shutil.copy2(self._tokenizer_source / name, target / name)

    def _load_weights(self, folder: Path) -> None:
        """Load ``model.onnx`` on ONNX Runtime when the folder has it (unless ``device=cuda``), else the
        PyTorch weights in ``model/``. A folder with both (the shipped model) predicts on ONNX Runtime and
        loads the PyTorch weights only when an explanation or an export needs them."""
        self._setup(folder / _MODEL_DIR)
        self._source = folder
        self.network_ = None
        self._lazy_network = None
        has_onnx = (folder / _ONNX_FILE).is_file()
        has_weights = _has_weights(folder)
        if has_onnx and (not has_weights or (self._cfg.device != "cuda" and onnx_available())):
            self.backend_ = "onnx"
            self._session = onnx_session(folder / _ONNX_FILE)
            return
        if not has_weights:
            raise ModelError(f"{folder} holds neither {_ONNX_FILE} nor model weights in {_MODEL_DIR}/")
        self.backend_ = "torch"
        self.network_ = self._torch_network("this model")

    def _manifest_extra(self) -> dict[str, Any]:
        return {"backend": getattr(self, "backend_", "torch"), **getattr(self, "_export_info", {})}

    def _load_manifest_extra(self, manifest: dict[str, Any]) -> None:
        if manifest.get("exported_from"):
            self._export_info = {"exported_from": manifest["exported_from"]}

    def export_onnx(self, path: str | Path, *, int8: bool = False, keep_weights: str = "") -> Path:
        """Write an ONNX copy of this model to the folder ``path`` (atomically); it loads as kind ``transformer``.

        Args:
            path: Folder to write.
            int8: Quantise the weights of the linear layers to int8 (onnxruntime dynamic quantisation).
            keep_weights: ``"float16"`` or ``"float32"``: also keep the PyTorch weights (safetensors) in that
                precision, for explanations and further training; empty: ONNX only.

        Returns:
            The folder written.
        """
        self._check_fitted()
        if keep_weights not in ("", "float16", "float32"):
            raise ModelError(f"keep_weights must be '', 'float16' or 'float32', not {keep_weights!r}")
        if self.backend_ != "torch":
            raise ModelError("this model is already ONNX; export the PyTorch model it was exported from")
        try:
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        except ImportError:
            raise ModelError("ONNX export needs the onnx extra: pip install 'imdb-sentiment[onnx]'") from None
        import torch

        network = self.network_.to("cpu").eval()
        sample = self._pad(self._rows(["an example review to trace the model with"])[0])
        path = Path(path)
        with atomic_dir(path) as tmp:
            with _quiet_transformers():  # for the config.json the exported folder needs
                state = None
                if keep_weights == "float16":
                    state = {k: v.half() if v.is_floating_point() else v for k, v in network.state_dict().items()}
                network.save_pretrained(tmp / "_torch", safe_serialization=True, state_dict=state)
            if keep_weights:
                shutil.move(tmp / "_torch", tmp / _MODEL_DIR)
            else:
                (tmp / _MODEL_DIR).mkdir()
                shutil.move(tmp / "_torch" / "config.json", tmp / _MODEL_DIR / "config.json")
                shutil.rmtree(tmp / "_torch")
            self._copy_tokenizer(tmp / _MODEL_DIR)
            raw = tmp / ("model.fp32.onnx" if int8 else _ONNX_FILE)
            with torch.inference_mode(), warnings.catch_warnings():
                # The tracer warns about Python conditionals in transformers' masking code; they depend
                # only on shapes that stay dynamic here, which the tests check against PyTorch.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    logits_only(network),
                    (torch.as_tensor(sample[0]), torch.as_tensor(sample[1])),
                    str(raw),
                    input_names=["input_ids", "attention_mask"],
                    output_names=["logits"],
                    dynamic_axes={
                        "input_ids": {0: "batch", 1: "sequence"},
                        "attention_mask": {0: "batch", 1: "sequence"},
                        "logits": {0: "batch"},
                    },
                    opset_version=17,
                    dynamo=False,
                )
            if int8:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                root = logging.getLogger()
                level = root.level
                root.setLevel(logging.ERROR)  # its advice to pre-process applies to convolutional models
                try:
                    # One scale per output channel, not per tensor: on 1,000 validation reviews per-tensor
                    # int8 lost 1.4 points against float32 ONNX, per-channel 0.1, at the same size and
                    # about 15% more scoring time.
                    quantize_dynamic(str(raw), str(tmp / _ONNX_FILE), weight_type=QuantType.QInt8, per_channel=True)
                finally:
                    root.setLevel(level)
                raw.unlink()
            exported = type(self)(config=self._cfg, verbose=self.verbose)
            exported._load_weights(tmp)
            exported.classes_ = self.classes_
            exported.history_ = self.history_
            exported.info_ = dict(self.info_)
            kept = {"weights_kept": keep_weights} if keep_weights else {}
            exported._export_info = {"exported_from": {"backend": "torch", "int8": int8, **kept}}
            exported._write_metadata(tmp)
        network.to(self._device())
        return path


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
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


def _parameters(network: Any) -> int:
    return sum(p.numel() for p in network.parameters())


def _has_weights(folder: Path) -> bool:
    """Whether a saved model folder keeps PyTorch weights in ``model/`` (an ONNX-only export does not)."""
    return any((folder / _MODEL_DIR / name).is_file() for name in _WEIGHT_FILES)


def _pad_token_id(folder: Path, tokenizer: Any) -> int:
    """The padding token's id: the ``pad_token`` of ``tokenizer_config.json``, else ``[PAD]`` / ``<pad>``, else 0."""
    names: list[str] = []
    config = folder / "tokenizer_config.json"
    if config.is_file():
        pad = json.loads(config.read_text(encoding="utf-8")).get("pad_token")
        if isinstance(pad, dict):
            pad = pad.get("content")
        if isinstance(pad, str):
            names.append(pad)
    for name in (*names, "[PAD]", "<pad>"):
        token_id = tokenizer.token_to_id(name)
        if token_id is not None:
            return int(token_id)
    return 0
