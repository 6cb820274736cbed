"""Fine-tuning: a plain PyTorch loop over windows of the training reviews (and weighted sentence crops).

AdamW (no weight decay on biases and norms), linear warm-up and decay, gradient accumulation, batches of
reviews of similar length (little padding), validation after each epoch with early stopping on the
validation loss (the best weights are kept), and a resumable checkpoint every ``checkpoint_steps``
optimiser steps (:mod:`~imdb_sentiment.models.transformer.checkpoint`).

torch is imported inside :func:`fine_tune` only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import log_softmax

from imdb_sentiment.models.transformer.checkpoint import Checkpoint, checkpoint_dir
from imdb_sentiment.models.transformer.config import TransformerConfig
from imdb_sentiment.models.transformer.crops import weighted_crops
from imdb_sentiment.models.transformer.network import forward, torch_device
from imdb_sentiment.models.transformer.scoring import progress
from imdb_sentiment.models.transformer.windows import PieceTokenizer, pad, text_rows


@dataclass
class FitResult:
    """What :func:`fine_tune` leaves besides the trained network.

    Attributes:
        history: Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` (those recorded).
        validation_proba: The kept weights' probabilities on the whole validation set, when the epochs
            scored all of it (``train()`` reuses them instead of scoring validation again); else ``None``.
        validation_seconds: How long that scoring took.
    """

    history: dict[str, list[float]]
    validation_proba: np.ndarray | None = None
    validation_seconds: float | None = None


def fine_tune(
    network: Any,
    tokenizer: PieceTokenizer,
    cfg: TransformerConfig,
    texts: list[str],
    labels: np.ndarray,
    validation: tuple[list[str], np.ndarray] | None,
    *,
    score: Callable[[Sequence[str]], np.ndarray],
    say: Callable[[str], None],
    teacher: Callable[[list[str]], np.ndarray] | None = None,
    unlabeled: Sequence[str] = (),
    verbose: bool = False,
) -> FitResult:
    """Train ``network`` (already on its device) in place; it ends with the best weights, in eval mode.

    Args:
        network: A Hugging Face sequence classifier with two labels.
        tokenizer: Cuts the reviews into windows (``cfg.truncation``).
        cfg: Every training setting.
        texts: Training reviews (``cfg.subset`` of them are used if set).
        labels: Their labels.
        validation: ``(texts, labels)`` scored after each epoch, for early stopping; or ``None``.
        score: Logits ``(n, 2)`` of reviews with the network as it is (the model's inference path).
        say: Reports what training does.
        teacher: Probabilities ``(n, 2)`` of reviews from a teacher model: the network also learns them,
            softened by ``cfg.temperature``, for ``cfg.distill_weight`` of the loss.
        unlabeled: Reviews without labels: with a teacher, ``cfg.unlabeled`` of them (a seeded draw) are
            trained on from the teacher's probabilities alone.
        verbose: Show progress bars.

    Returns:
        The history and the kept weights' validation scores.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    device = torch_device(cfg.device)
    all_texts, all_labels = texts, labels
    if cfg.subset and cfg.subset < len(texts):
        texts, labels = stratified_subset(texts, labels, cfg.subset, cfg.seed)
    whole_validation = True
    if validation is not None and cfg.eval_subset and cfg.eval_subset < len(validation[0]):
        validation = stratified_subset(*validation, cfg.eval_subset, cfg.seed)
        whole_validation = False
    say(f"tokenising {len(texts):,} training reviews ...")
    inputs, owners = text_rows(texts, tokenizer, cfg, training=True)
    row_labels = labels[owners]
    row_weights = np.ones(len(inputs))
    soft = None
    # Per row: the share of its loss that is the teacher's (1 for reviews without a label).
    distill = np.full(len(inputs), cfg.distill_weight)
    if teacher is not None:
        say(f"scoring the {len(texts):,} training reviews with the teacher ...")
        soft = soften(teacher(texts), cfg.temperature)[owners]
        extra = unlabeled_draw(unlabeled, cfg.unlabeled, cfg.seed)
        if extra:
            say(f"scoring {len(extra):,} unlabelled reviews with the teacher ...")
            extra_soft = soften(teacher(extra), cfg.temperature)
            extra_rows, extra_owners = text_rows(extra, tokenizer, cfg, training=True)
            inputs = inputs + extra_rows
            soft = np.concatenate([soft, extra_soft[extra_owners]])
            # No label: cross-entropy skips the rows (NO_LABEL), the teacher is their whole loss (distill = 1).
            row_labels = np.concatenate([row_labels, np.full(len(extra_rows), NO_LABEL)])
            row_weights = np.concatenate([row_weights, np.ones(len(extra_rows))])
            distill = np.concatenate([distill, np.ones(len(extra_rows))])
    if cfg.crops:
        inputs, row_labels, row_weights = add_crops(
            inputs, row_labels, row_weights, all_texts, all_labels, tokenizer, cfg, say=say
        )
    batches_per_epoch = math.ceil(len(inputs) / cfg.batch_size)
    steps_per_epoch = math.ceil(batches_per_epoch / cfg.grad_accum)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)

    optimizer = torch.optim.AdamW(parameter_groups(network, cfg.weight_decay), lr=cfg.learning_rate)
    scheduler = get_linear_schedule_with_warmup(optimizer, round(cfg.warmup_ratio * total_steps), total_steps)
    checkpoint = Checkpoint(checkpoint_dir(cfg, texts, labels), verbose=verbose)
    state = checkpoint.restore(network, optimizer, scheduler) or {
        "epoch": 0,
        "batch": 0,
        "step": 0,
        "history": {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []},
        "best_val_loss": None,
        "bad_epochs": 0,
    }
    if state["step"]:
        say(f"resuming from the checkpoint in {checkpoint.folder} at optimiser step {state['step']}")
    result = FitResult(history=state["history"])
    history = result.history
    best_weights = checkpoint.best_weights() if state["best_val_loss"] is not None else None
    done = state["step"] >= total_steps
    for epoch in range(state["epoch"], cfg.epochs):
        if done:
            break
        order = length_grouped_batches(inputs, cfg.batch_size, seed=cfg.seed + epoch)
        network.train()
        loss_sum, correct, seen, labelled = 0.0, 0, 0, 0
        bar = progress(
            total=len(order), initial=state["batch"], desc=f"epoch {epoch + 1}/{cfg.epochs}", enabled=verbose
        )
        for b in range(state["batch"], len(order)):
            ids, mask = pad([inputs[j] for j in order[b]], tokenizer.pad_id)
            target = torch.as_tensor(row_labels[order[b]], device=device)
            weight = torch.as_tensor(row_weights[order[b]], dtype=torch.float32, device=device)
            logits = forward(network, torch.as_tensor(ids), torch.as_tensor(mask), device, grad=True)
            # Whole reviews weigh 1, crops their teacher weight (crops.py).
            loss = (
                torch.nn.functional.cross_entropy(logits.float(), target, reduction="none", ignore_index=NO_LABEL)
                * weight
            )
            if soft is not None:
                share = torch.as_tensor(distill[order[b]], dtype=torch.float32, device=device)
                loss = (1 - share) * loss + share * distillation_loss(
                    logits.float(), torch.as_tensor(soft[order[b]], device=device), cfg.temperature
                )
            loss = loss.mean()
            (loss / cfg.grad_accum).backward()
            loss_sum += loss.item() * len(order[b])
            correct += int((logits.argmax(-1) == target).sum())  # NO_LABEL rows never match
            seen += len(order[b])
            labelled += int((target != NO_LABEL).sum())
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / max(labelled, 1):.3f}", refresh=False)
            if (b + 1) % cfg.grad_accum == 0 or b + 1 == len(order):
                torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                state["step"] += 1
                state["batch"] = b + 1
                if cfg.checkpoint_steps and state["step"] % cfg.checkpoint_steps == 0:
                    checkpoint.save(network, optimizer, scheduler, state, best_weights)
                if state["step"] >= total_steps:
                    done = True
                    break
        bar.close()
        history["loss"].append(loss_sum / max(seen, 1))
        history["accuracy"].append(correct / max(labelled, 1))
        state.update(epoch=epoch + 1, batch=0)
        if validation is not None:
            start = time.perf_counter()
            val_logits = score(validation[0])
            seconds = time.perf_counter() - start
            val_log_proba = log_softmax(val_logits, axis=1)
            val_loss = float(-val_log_proba[np.arange(len(validation[1])), validation[1]].mean())
            val_acc = float((val_logits.argmax(axis=1) == validation[1]).mean())
            history["val_loss"].append(val_loss)
            history["val_accuracy"].append(val_acc)
            say(f"epoch {epoch + 1}: validation loss {val_loss:.4f}, accuracy {val_acc:.4f}")
            if state["best_val_loss"] is None or val_loss < state["best_val_loss"]:
                state.update(best_val_loss=val_loss, bad_epochs=0)
                best_weights = {k: v.detach().to("cpu", copy=True) for k, v in network.state_dict().items()}
                if whole_validation:  # the kept weights' own validation scores: train() reuses them
                    result.validation_proba = np.exp(val_log_proba)
                    result.validation_seconds = seconds
            else:
                state["bad_epochs"] += 1
                if state["bad_epochs"] >= cfg.patience:
                    say(f"stopping early: no better validation loss for {state['bad_epochs']} epochs")
                    done = True
        checkpoint.save(network, optimizer, scheduler, state, best_weights)
    if best_weights is not None:
        network.load_state_dict(best_weights)
    network.eval()
    checkpoint.discard()
    result.history = {k: v for k, v in history.items() if v}
    return result


#: The label of a row without one: PyTorch's cross-entropy ``ignore_index`` (its loss there is 0).
NO_LABEL = -100


def unlabeled_draw(texts: Sequence[str], n: int, seed: int) -> list[str]:
    """``n`` of ``texts`` (all if fewer), a seeded draw, in their original order."""
    if n <= 0 or not texts:
        return []
    if n >= len(texts):
        return list(texts)
    keep = np.sort(np.random.default_rng(seed).choice(len(texts), size=n, replace=False))
    return [texts[i] for i in keep]


def soften(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ``(n, 2)`` softened by ``temperature`` (a softmax of log-probabilities / temperature)."""
    logits = np.log(np.clip(np.asarray(proba, dtype=np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return (out / out.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_loss(logits: Any, soft: Any, temperature: float) -> Any:
    """Per-row KL divergence from the teacher's softened probabilities to the network's, times T squared
    (so that its gradients keep their scale whatever the temperature; Hinton et al. 2015)."""
    import torch

    log_p = torch.nn.functional.log_softmax(logits / temperature, dim=-1)
    kl = torch.nn.functional.kl_div(log_p, soft, reduction="none").sum(dim=-1)
    return kl * temperature**2


def add_crops(
    inputs: list[list[int]],
    row_labels: np.ndarray,
    row_weights: np.ndarray,
    texts: list[str],
    labels: np.ndarray,
    tokenizer: PieceTokenizer,
    cfg: TransformerConfig,
    *,
    say: Callable[[str], None],
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """The training rows with ``cfg.crops`` weighted sentence crops of ``texts`` appended (see ``crops.py``).

    Returns:
        ``(inputs, labels, weights)`` per model input, the crops' after the reviews'.
    """
    say(
        f"drawing {cfg.crops:,} sentence crops"
        + (" and weighing them by a teacher ..." if cfg.crop_teacher else " ...")
    )
    crops, crop_labels, weights = weighted_crops(
        texts, labels, cfg.crops, max_sentences=cfg.crop_sentences, teacher=cfg.crop_teacher, seed=cfg.seed
    )
    say(f"training on {len(crops):,} crops (mean weight {weights.mean() if len(weights) else 0:.2f})")
    crop_rows, crop_owners = text_rows(crops, tokenizer, cfg, training=True)
    return (
        inputs + crop_rows,
        np.concatenate([row_labels, crop_labels[crop_owners]]),
        np.concatenate([row_weights, weights[crop_owners]]),
    )


def parameter_groups(network: Any, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW parameter groups: the usual BERT recipe, no weight decay on biases and norm weights."""
    decay: list[Any] = []
    no_decay: list[Any] = []
    for name, parameter in network.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name or "norm" in name.lower() else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def stratified_subset(texts: Sequence[str], labels: np.ndarray, n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` of the reviews, drawn with the class balance of the whole (seeded), in their original order."""
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
