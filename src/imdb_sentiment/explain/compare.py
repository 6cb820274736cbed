"""Compare two models' explanations on the same reviews: the interpretability comparison of the original project.

:func:`compare_explanations` explains the same test reviews with both models and measures

- agreement of their word rankings: overlap of the top-k words (k = 5, 10), and Spearman and Kendall rank
  correlations of the two attributions over the words of each review;
- faithfulness of each (:mod:`imdb_sentiment.explain.faithfulness`), side by side;
- where their predictions disagree, and who was right;

and writes a report folder: ``index.html`` (one self-contained page: the figures, the tables and a gallery
of the most instructive reviews, both models' highlights side by side), ``comparison.json`` and PNG plots.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from imdb_sentiment._atomic import atomic_path, write_json
from imdb_sentiment.explain.faithfulness import explain_many, faithfulness
from imdb_sentiment.explain.records import Explanation
from imdb_sentiment.explain.render import to_html
from imdb_sentiment.labels import LABELS, label_ids
from imdb_sentiment.plots import pyplot, save_figure

TOP_KS = (5, 10)


def rank_agreement(a: Explanation, b: Explanation) -> dict[str, float]:
    """Agreement of two explanations of the same review (their tokens are the same words).

    Args:
        a: One model's explanation.
        b: Another model's explanation of the same review.

    Returns:
        ``top5_overlap`` and ``top10_overlap`` (the share of the k strongest words both name; k is capped
        at the review's word count), ``spearman`` and ``kendall`` rank correlations of the attributions
        (NaN when either is constant or the review has fewer than two words).
    """
    from scipy.stats import kendalltau, spearmanr

    x = np.array([t.attribution for t in a.tokens])
    y = np.array([t.attribution for t in b.tokens])
    out: dict[str, float] = {}
    for k in TOP_KS:
        top_a = set(np.argsort(-np.abs(x), kind="stable")[:k])
        top_b = set(np.argsort(-np.abs(y), kind="stable")[:k])
        out[f"top{k}_overlap"] = len(top_a & top_b) / max(min(k, len(x)), 1)
    constant = len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0
    out["spearman"] = float("nan") if constant else float(spearmanr(x, y).statistic)
    out["kendall"] = float("nan") if constant else float(kendalltau(x, y).statistic)
    return out


def compare_explanations(
    model_a: Any,
    model_b: Any,
    texts: Sequence[str],
    labels: Sequence[int] | np.ndarray,
    report: str | Path,
    *,
    names: tuple[str, str] | None = None,
    gallery: int = 8,
    progress: bool = False,
) -> dict[str, Any]:
    """Explain ``texts`` with both models, compare the explanations, write the report folder.

    Args:
        model_a: A fitted model.
        model_b: Another fitted model.
        texts: The reviews to explain.
        labels: Their true 0/1 labels.
        report: The folder for ``index.html``, ``comparison.json``, ``agreement.png`` and
            ``faithfulness.png`` (created if missing).
        names: How to call the models (default: their kinds, suffixed ``(A)``/``(B)`` when equal).
        gallery: How many reviews to show side by side in ``index.html``.
        progress: Show progress bars.

    Returns:
        The summary written to ``comparison.json``: ``models``, ``n``, ``accuracy``, mean ``agreement``,
        ``predictions_disagree``, ``when_they_disagree_right``, ``faithfulness`` and
        ``seconds_per_explanation``.
    """
    report = Path(report)
    report.mkdir(parents=True, exist_ok=True)
    name_a, name_b = names or (model_a.kind, model_b.kind)
    if name_a == name_b:
        name_a, name_b = f"{name_a} (A)", f"{name_b} (B)"
    truth = np.asarray(labels)
    # Attention weights are not compared here; skip computing them (kinds without attention ignore this).
    expl_a, secs_a = explain_many(model_a, texts, progress=progress, attention=False)
    expl_b, secs_b = explain_many(model_b, texts, progress=progress, attention=False)
    agreement = [rank_agreement(a, b) for a, b in zip(expl_a, expl_b, strict=True)]
    pred_a = label_ids(np.array([e.p_positive for e in expl_a]))
    pred_b = label_ids(np.array([e.p_positive for e in expl_b]))
    faith = {name_a: faithfulness(model_a, expl_a).to_dict(), name_b: faithfulness(model_b, expl_b).to_dict()}

    def mean(key: str) -> float:
        return round(float(np.nanmean([g[key] for g in agreement])), 4)

    disagree = np.flatnonzero(pred_a != pred_b)
    summary: dict[str, Any] = {
        "models": [name_a, name_b],
        "n": len(texts),
        "accuracy": {name_a: float((pred_a == truth).mean()), name_b: float((pred_b == truth).mean())},
        "agreement": {key: mean(key) for key in agreement[0]} if agreement else {},
        "predictions_disagree": len(disagree),
        "when_they_disagree_right": {
            name_a: int((pred_a[disagree] == truth[disagree]).sum()),
            name_b: int((pred_b[disagree] == truth[disagree]).sum()),
        },
        "faithfulness": faith,
        "seconds_per_explanation": {name_a: round(secs_a, 4), name_b: round(secs_b, 4)},
    }
    plots = _plots(report, agreement, faith, (name_a, name_b))
    chosen = _instructive(expl_a, expl_b, truth, agreement, gallery)
    write_json(report / "comparison.json", summary)
    with atomic_path(report / "index.html") as tmp:
        tmp.write_text(_page(summary, plots, chosen, expl_a, expl_b, truth, agreement), encoding="utf-8")
    return summary


def _instructive(
    expl_a: list[Explanation], expl_b: list[Explanation], labels: np.ndarray, agreement: list[dict], count: int
) -> list[tuple[int, str]]:
    """Reviews worth reading: the models disagree most, one of them is confidently wrong, they agree in
    prediction but not in why."""
    p_a = np.array([e.p_positive for e in expl_a])
    p_b = np.array([e.p_positive for e in expl_b])
    picks: list[tuple[int, str]] = []
    seen: set[int] = set()

    def take(order: np.ndarray, why: str, n: int) -> None:
        for i in order:
            if len([p for p in picks if p[1] == why]) >= n:
                break
            if int(i) not in seen:
                seen.add(int(i))
                picks.append((int(i), why))

    per = max(1, count // 4)
    take(np.argsort(-np.abs(p_a - p_b)), "the models disagree most", per)
    wrong_a = np.abs(p_a - labels) * (label_ids(p_a) != labels)
    wrong_b = np.abs(p_b - labels) * (label_ids(p_b) != labels)
    take(np.argsort(-np.maximum(wrong_a, wrong_b)), "a model is confidently wrong", per)
    spearman = np.array([g["spearman"] if np.isfinite(g["spearman"]) else 1.0 for g in agreement])
    same = label_ids(p_a) == label_ids(p_b)
    take(np.argsort(np.where(same, spearman, np.inf)), "same prediction, different reasons", per)
    take(np.argsort(np.where(same, -spearman, np.inf)), "same prediction, same reasons", count - len(picks))
    return picks


def _plots(report: Path, agreement: list[dict], faith: dict[str, dict], names: tuple[str, str]) -> list[str]:
    plt = pyplot()
    files: list[str] = []
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    # Fixed bins over each measure's whole range: agreement that is (nearly) the same on every review would
    # otherwise leave numpy no range to cut 20 bins from.
    for ax, key, low in zip(axes, ("spearman", "top10_overlap"), (-1.0, 0.0), strict=True):
        values = [g[key] for g in agreement if np.isfinite(g[key])]
        ax.hist(np.clip(values, low, 1.0), bins=np.linspace(low, 1.0, 21), color="#4c72b0")
        ax.set_title(f"{key.replace('_', ' ')} per review (mean {np.mean(values) if values else float('nan'):.2f})")
        ax.set_xlabel(key)
        ax.set_ylabel("reviews")
    fig.suptitle(f"agreement of word attributions: {names[0]} vs {names[1]}")
    files.append(save_figure(fig, report / "agreement.png").name)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric, better in zip(axes, ("comprehensiveness", "sufficiency"), ("higher", "lower"), strict=True):
        shares = list(next(iter(faith.values()))[metric])
        width = 0.2
        for j, (name, scores) in enumerate(faith.items()):
            x = np.arange(len(shares)) + (j - 1.5) * width
            ax.bar(x, [scores[metric][k] for k in shares], width, label=name)
            ax.bar(x + 2 * width, [scores[f"random_{metric}"][k] for k in shares], width, label=f"{name}, random words",
                   alpha=0.45)  # fmt: skip
        ax.set_xticks(np.arange(len(shares)), shares)
        ax.set_xlabel("share of words")
        ax.set_title(f"{metric} ({better} is better)")
        ax.legend(fontsize=7)
    files.append(save_figure(fig, report / "faithfulness.png").name)
    return files


def _page(
    summary: dict[str, Any],
    plots: list[str],
    chosen: list[tuple[int, str]],
    expl_a: list[Explanation],
    expl_b: list[Explanation],
    labels: np.ndarray,
    agreement: list[dict],
) -> str:
    name_a, name_b = summary["models"]
    esc = html.escape
    rows = "".join(
        f"<tr><td>{esc(name)}</td><td>{summary['accuracy'][name]:.2%}</td>"
        f"<td>{f['comprehensiveness_mean']:.3f} (random {f['random_comprehensiveness_mean']:.3f})</td>"
        f"<td>{f['sufficiency_mean']:.3f} (random {f['random_sufficiency_mean']:.3f})</td>"
        f"<td>{summary['seconds_per_explanation'][name]:.3f}</td></tr>"
        for name, f in summary["faithfulness"].items()
    )
    agreement_rows = "".join(f"<tr><td>{esc(k)}</td><td>{v:.3f}</td></tr>" for k, v in summary["agreement"].items())
    cards = []
    for i, why in chosen:
        truth = LABELS[int(labels[i])]
        cards.append(
            f"<section><h3>{esc(why)} <small>(true label: {truth}; Spearman "
            f"{agreement[i]['spearman']:.2f})</small></h3><div style='display:flex; gap:1em'>"
            f"<div style='flex:1'>{to_html(expl_a[i], title=name_a)}</div>"
            f"<div style='flex:1'>{to_html(expl_b[i], title=name_b)}</div></div></section>"
        )
    images = "".join(f"<img src='{esc(p)}' style='max-width:100%'>" for p in plots)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(name_a)} vs {esc(name_b)}: explanations compared</title></head>"
        "<body style='font-family: sans-serif; max-width: 1200px; margin: auto'>"
        f"<h1>{esc(name_a)} vs {esc(name_b)}</h1>"
        f"<p>{summary['n']} test reviews. The predictions differ on {summary['predictions_disagree']}; there "
        f"{esc(name_a)} is right {summary['when_they_disagree_right'][name_a]} times and {esc(name_b)} "
        f"{summary['when_they_disagree_right'][name_b]} times.</p>"
        "<h2>Faithfulness (ERASER, mean over k = 5, 10, 20% of words)</h2>"
        "<table border='1' cellpadding='4'><tr><th>model</th><th>accuracy</th><th>comprehensiveness (higher is "
        "better)</th><th>sufficiency (lower is better)</th><th>s / explanation</th></tr>"
        f"{rows}</table><h2>Agreement of the word rankings</h2><table border='1' cellpadding='4'>"
        f"{agreement_rows}</table>{images}<h2>Gallery</h2>{''.join(cards)}"
        f"<details><summary>summary JSON</summary><pre>{esc(json.dumps(summary, indent=2))}</pre></details>"
        "</body></html>"
    )
