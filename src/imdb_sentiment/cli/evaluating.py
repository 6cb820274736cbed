"""Verbs that measure models: ``evaluate`` and ``compare-explanations``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from imdb_sentiment.cli.common import DataOption, ModelArgument, Split, app, console, guard, model_ref, print_metrics
from imdb_sentiment.errors import InputError


@app.command()
@guard
def evaluate(
    model: ModelArgument = None,
    split: Annotated[Split, typer.Option(help="IMDb split to evaluate on (ignored with --input).")] = Split.test,
    data: DataOption = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate on a seeded stratified sample of N reviews.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for --limit sampling.")] = 0,
    input_: Annotated[
        Path | None, typer.Option("--input", help="A labelled CSV, JSONL or Parquet file instead of IMDb.")
    ] = None,
    text_column: Annotated[str, typer.Option(help="Text column of --input.")] = "text",
    label_column: Annotated[str, typer.Option(help="Label column of --input: 0/1 or negative/positive.")] = "label",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on one line.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write metrics.json and PNG plots to this folder.")] = None,
) -> None:
    """Evaluate a saved model on an IMDb split or a labelled file; optionally write a report with plots."""
    from imdb_sentiment.evaluate import evaluate_model

    metrics = evaluate_model(
        model_ref(model), split=split.value, data=data, limit=limit, seed=seed, file=input_,
        text_column=text_column, label_column=label_column, report=report,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        print_metrics(metrics, title=f"{metrics['kind']} on {metrics['dataset']} ({metrics['n']:,} reviews)")
        if report is not None:
            console.print(f"report written to {report}", highlight=False)


@app.command("compare-explanations")
@guard
def compare_explanations(
    model_a: Annotated[Path, typer.Argument(help="A saved model folder.")],
    model_b: Annotated[Path, typer.Argument(help="Another saved model folder.")],
    report: Annotated[Path, typer.Option(help="Folder for index.html, comparison.json and the plots.")],
    n: Annotated[int, typer.Option("--n", help="Test reviews to compare on (a seeded stratified sample).")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    data: DataOption = None,
) -> None:
    """Explain the same test reviews with two models and compare their explanations in an HTML report."""
    from imdb_sentiment.data import load_imdb, stratified_sample
    from imdb_sentiment.explain.compare import compare_explanations as compare
    from imdb_sentiment.models.registry import load_model

    if n < 2:
        raise InputError("--n must be at least 2")
    first, second = load_model(model_a), load_model(model_b)
    test = load_imdb(data).reviews("test")
    sample = stratified_sample(test, min(n, len(test)), seed=seed)
    summary = compare(
        first, second, sample["text"].tolist(), sample["label"].to_numpy("int64"), report,
        names=(f"{first.kind}: {model_a.name}", f"{second.kind}: {model_b.name}"), progress=True,
    )  # fmt: skip
    table = Table(title=f"{summary['models'][0]} vs {summary['models'][1]} on {summary['n']} test reviews")
    table.add_column("")
    for name in summary["models"]:
        table.add_column(name, justify="right")
    faith = summary["faithfulness"]
    for key in (
        "comprehensiveness_mean",
        "random_comprehensiveness_mean",
        "sufficiency_mean",
        "random_sufficiency_mean",
    ):
        table.add_row(key.replace("_", " "), *(f"{faith[m][key]:.3f}" for m in summary["models"]))
    table.add_row("accuracy", *(f"{summary['accuracy'][m]:.2%}" for m in summary["models"]))
    table.add_row("s / explanation", *(f"{summary['seconds_per_explanation'][m]:.3f}" for m in summary["models"]))
    console.print(table)
    agreement = ", ".join(f"{k} {v:.3f}" for k, v in summary["agreement"].items())
    console.print(f"agreement of word rankings: {agreement}", highlight=False)
    console.print(f"predictions differ on {summary['predictions_disagree']} reviews; report: {report / 'index.html'}",
               highlight=False)  # fmt: skip
