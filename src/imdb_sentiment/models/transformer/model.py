"""The ``transformer`` kind's model class: the :class:`SentimentModel` contract over the package's parts.

It holds the fitted state (tokenizer, network or ONNX session) and decides which backend runs; cutting
reviews into windows, scoring, training, explaining and exporting are done by the modules beside it.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.special import softmax

from imdb_sentiment._atomic import atomic_dir
from imdb_sentiment.errors import ModelError
from imdb_sentiment.explain.records import Explanation, check_steps
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.inputs import check_texts
from imdb_sentiment.models.transformer import attribution, network, onnx, scoring, training, windows
from imdb_sentiment.models.transformer.bases import resolve_base_model
from imdb_sentiment.models.transformer.config import TransformerConfig

#: The text the network is traced with for an ONNX export.
_TRACE_TEXT = "an example review to trace the model with"


class TransformerClassifier(SentimentModel):
    """Fine-tuned ``AutoModelForSequenceClassification``.

    Args:
        config: A :class:`TransformerConfig` (defaults if ``None``).
        verbose: Show progress bars and what training is doing.

    Attributes:
        network_: the PyTorch model (``None`` for an ONNX-backed model, which loads it only for an
            explanation, from the weights kept beside the ONNX graph).
        backend_: ``"torch"`` or ``"onnx"``.
        tokenizer_: the :class:`~imdb_sentiment.models.transformer.windows.PieceTokenizer`.
    """

    kind: ClassVar[str] = "transformer"
    config_class: ClassVar[type[TransformerConfig]] = TransformerConfig
    # How reviews are cut and batched for prediction; ``stride`` and ``max_chunks`` shape only the inference
    # windows of a model trained on ``head_tail`` or ``head`` (the manifest keeps the values it trained with).
    inference_keys: ClassVar[tuple[str, ...]] = (
        "inference_truncation",
        "inference_max_length",
        "stride",
        "max_chunks",
        "inference_batch_size",
        "device",
    )
    explain_options: ClassVar[frozenset[str]] = frozenset({"n_steps", "attention"})

    #: The PyTorch network an ONNX-backed model loads on first need (an explanation, an export).
    _lazy_network: Any = None

    def __init__(self, *, config: TransformerConfig | None = None, verbose: bool = False):
        super().__init__(config=config, verbose=verbose)

    @property
    def _cfg(self) -> TransformerConfig:
        cfg = self.resolved_config
        assert isinstance(cfg, TransformerConfig)
        return cfg

    def _setup(self, source: str | Path) -> None:
        """Load the tokenizer from the folder ``source`` and check the config leaves room for a review."""
        self.tokenizer_ = windows.load_tokenizer(source)
        windows.check_room(self._cfg, self.tokenizer_)

    # ----------------------------------------------------------------------------- training
    def _fit(
        self,
        texts: list[str],
        labels: np.ndarray,
        validation: tuple[list[str], np.ndarray] | None,
        unlabeled: list[str],
    ) -> dict[str, list[float]]:
        cfg = self._cfg
        source = resolve_base_model(cfg.base_model)
        self._setup(source)
        self.network_ = network.load_base(source, seed=cfg.seed)
        network.keep_layers(self.network_, cfg.layers)
        # A base saved by this kind (training on from a fine-tuned model) keeps its trained head.
        head = "its trained" if network.has_trained_head(self.network_) else "a new"
        self._say(
            f"fine-tuning {cfg.base_model or 'all-MiniLM-L6-v2'} ({network.n_parameters(self.network_) / 1e6:.1f}M "
            f"parameters{f', layers {list(cfg.layers)}' if cfg.layers else ''}) with {head} classification head"
            + (f", learning from {cfg.teacher}" if cfg.teacher else "")
        )
        self.backend_ = "torch"
        self.network_.to(network.torch_device(cfg.device))
        result = training.fine_tune(
            self.network_,
            self.tokenizer_,
            cfg,
            texts,
            labels,
            validation,
            score=self._review_logits,
            say=self._say,
            teacher=self._teacher() if cfg.teacher else None,
            unlabeled=unlabeled,
            verbose=self.verbose,
        )
        self.validation_proba_ = result.validation_proba
        self.validation_seconds_ = result.validation_seconds
        return result.history

    @classmethod
    def wants_unlabeled(cls, config: Any) -> bool:
        return isinstance(config, TransformerConfig) and config.unlabeled > 0

    def _teacher(self) -> Any:
        """The ``teacher`` model's ``predict_proba`` (any saved model; its progress bar as this model's)."""
        from imdb_sentiment.models.registry import load_model

        teacher = load_model(self._cfg.teacher)
        teacher.show_progress(self.verbose)
        return teacher.predict_proba

    def unseen_training_rows(self, texts: Sequence[str], labels: np.ndarray) -> np.ndarray:
        # Training on ``subset`` reviews draws them with training.stratified_subset, seeded: the same draw
        # says which of these reviews the network never saw.
        cfg = self._cfg
        unseen = np.zeros(len(texts), dtype=bool)
        if cfg.subset and cfg.subset < len(texts):
            seen = set(training.stratified_subset(list(texts), np.asarray(labels), cfg.subset, cfg.seed)[0])
            unseen[:] = [t not in seen for t in texts]
        return unseen

    # ----------------------------------------------------------------------------- inference
    def set_threads(self, n: int | None) -> int | None:
        # ONNX Runtime fixes its thread pool when the session is made: a new limit means a new session
        # (a fraction of a second). The PyTorch backend's threads are process-wide; they are left alone.
        session = getattr(self, "_session", None)
        if getattr(self, "backend_", None) != "onnx" or session is None:
            return None
        previous = session.threads
        if n != previous:
            self._session = onnx.OnnxSession(session.path, threads=n)
        return previous

    def chunk_workers(self, cores: int) -> int:
        # One chunk at a time on every core: one ONNX Runtime call uses every core as well as parallel
        # one-thread calls do on chunks they share evenly, and an input of one chunk (any file under
        # score's 8,192-row batch) or the last chunk of a run gets every core, not one (bench/transformer_cpu.py).
        return 1

    def _batch_logits(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.backend_ == "onnx":
            return self._session(ids, mask)
        return network.batch_logits(self.network_, ids, mask, network.torch_device(self._cfg.device))

    def _batch_outputs(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self.backend_ == "onnx":
            return self._session.outputs(ids, mask)
        return network.batch_outputs(self.network_, ids, mask, network.torch_device(self._cfg.device))

    def _review_logits(self, texts: Sequence[str]) -> np.ndarray:
        """Logits ``(n, 2)`` per review: its windows' logits averaged."""
        return self._pieces_logits(self.tokenizer_.word_pieces(texts))

    def _pieces_logits(self, pieces: Sequence[list[int]]) -> np.ndarray:
        """Logits ``(n, 2)`` per review given as word-piece ids."""
        if self.backend_ == "torch":
            self.network_.eval()
        return scoring.review_logits(pieces, self.tokenizer_, self._cfg, self._batch_logits, verbose=self.verbose)

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

    def predict_proba_and_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None]:
        # Features come from an exported graph that returns them (export_onnx writes one) or from PyTorch.
        self._check_fitted()
        items = check_texts(texts, allow_empty=True)
        if not items:
            return np.zeros((0, 2)), None
        if self.backend_ == "torch":
            self.network_.eval()
        logits, features = scoring.review_outputs(
            self.tokenizer_.word_pieces(items), self.tokenizer_, self._cfg, self._batch_outputs, verbose=self.verbose
        )
        return softmax(logits, axis=1), features

    # ----------------------------------------------------------------------------- explaining
    def _explain(self, text: str, *, n_steps: int = 20, attention: bool = True, **options: Any) -> Explanation:
        """Integrated gradients when the PyTorch network can run, else word occlusion (see ``attribution.py``).

        With ``attention``, the attention weights of every layer and head for the first window are attached.
        """
        check_steps(n_steps)
        ids, spans = self.tokenizer_.pieces_with_spans(text)
        positions = windows.window_positions(len(ids), self._cfg, n_special=self.tokenizer_.n_special)
        if not self._has_gradients():

            def log_odds(variants: list[list[int]]) -> np.ndarray:
                logits = self._pieces_logits(variants)
                return logits[:, 1] - logits[:, 0]

            return attribution.explain_by_occlusion(
                text,
                ids,
                spans,
                log_odds=log_odds,
                p_positive=float(self.predict_proba([text])[0, 1]),
                n_windows=len(positions),
            )
        net = self._torch_network("explanations")
        net.eval()
        return attribution.explain_by_gradients(
            text,
            ids,
            spans,
            positions,
            network=net,
            tokenizer=self.tokenizer_,
            device=network.torch_device(self._cfg.device),
            p_positive=float(self.predict_proba([text])[0, 1]),
            n_steps=n_steps,
            attention=attention,
        )

    @property
    def shows_attention(self) -> bool:
        # Attention comes from the PyTorch network; an ONNX-only copy explains by occlusion, without it.
        return self._has_gradients()

    def _has_gradients(self) -> bool:
        """Whether integrated gradients can run: PyTorch weights, torch and Captum are all here."""
        if getattr(self, "network_", None) is None and not network.has_weights(getattr(self, "_source", Path())):
            return False
        return attribution.gradients_available()

    def _torch_network(self, purpose: str) -> Any:
        """The PyTorch network, loaded from the saved weights on first use by an ONNX-backed model.

        Raises:
            ModelError: this copy has no PyTorch weights, or torch or transformers is missing.
        """
        if getattr(self, "network_", None) is not None:
            return self.network_
        if self._lazy_network is None:
            source = getattr(self, "_source", Path())
            self._lazy_network = network.load_saved(source, purpose=purpose, device=self._cfg.device)
        return self._lazy_network

    # ----------------------------------------------------------------------------- persistence
    def _save_weights(self, folder: Path) -> None:
        target = folder / network.MODEL_DIR
        if self.backend_ == "onnx":
            shutil.copytree(self._source / network.MODEL_DIR, target)
            shutil.copy2(self._source / onnx.ONNX_FILE, folder / onnx.ONNX_FILE)
            return
        with network.quiet_transformers():
            self.network_.save_pretrained(target, safe_serialization=True)
        self.tokenizer_.copy_files(target)

    def _load_weights(self, folder: Path) -> None:
        """Load ``model.onnx`` on ONNX Runtime when the folder has it (unless ``device=cuda``), else the
        PyTorch weights in ``model/``. A folder with both (the shipped model) predicts on ONNX Runtime and
        loads the PyTorch weights only when an explanation or an export needs them. Nothing from the folder
        runs and nothing is fetched (:func:`network.check_model_dir` before any Hugging Face file is read)."""
        self._setup(network.check_model_dir(folder / network.MODEL_DIR))
        self._source = folder
        self.network_ = None
        self._lazy_network = None
        has_onnx = (folder / onnx.ONNX_FILE).is_file()
        has_weights = network.has_weights(folder)
        if has_onnx and (not has_weights or (self._cfg.device != "cuda" and onnx.onnx_available())):
            self.backend_ = "onnx"
            self._session = onnx.OnnxSession(folder / onnx.ONNX_FILE)
            return
        if not has_weights:
            raise ModelError(f"{folder} holds neither {onnx.ONNX_FILE} nor model weights in {network.MODEL_DIR}/")
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

        Raises:
            ModelError: ``keep_weights`` is not one of those, this model is ONNX without its PyTorch weights,
                or the onnx extra is not installed.
        """
        self._check_fitted()
        if keep_weights not in onnx.KEEP_WEIGHTS:
            raise ModelError(f"keep_weights must be '', 'float16' or 'float32', not {keep_weights!r}")
        if self.backend_ != "torch" and not network.has_weights(getattr(self, "_source", Path())):
            raise ModelError("this model is ONNX only; export the PyTorch model it was exported from")
        onnx.check_export_dependencies()

        # An ONNX copy that kept its PyTorch weights (the shipped model) exports again from them: a newer
        # export (a faster graph) without retraining.
        net = self._torch_network("an ONNX export").to("cpu").eval()
        rows, _ = windows.text_rows([_TRACE_TEXT], self.tokenizer_, self._cfg)
        sample = windows.pad(rows, self.tokenizer_.pad_id)
        path = Path(path)
        with atomic_dir(path) as tmp:
            onnx.write_onnx(net, sample, self.tokenizer_, tmp, int8=int8, keep_weights=keep_weights)
            exported = type(self)(config=self._cfg, verbose=self.verbose)
            exported._load_weights(tmp)
            exported.classes_ = self.classes_
            exported.history_ = self.history_
            exported.info_ = dict(self.info_)
            kept = {"weights_kept": keep_weights} if keep_weights else {}
            exported._export_info = {"exported_from": {"backend": "torch", "int8": int8, **kept}}
            exported._write_metadata(tmp)
        net.to(network.torch_device(self._cfg.device))
        return path
