"""Verbs that make models: ``data`` (prepare the dataset), ``train``, ``reconfigure`` and ``export``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from imdb_sentiment.cli.common import DataOption, app, console, err_console, guard, print_comparison, print_metrics
from imdb_sentiment.errors import ConfigError, InputError
from imdb_sentiment.models.registry import DEFAULT_KIND, available_kinds


@app.command()
@guard
def data(
    data: DataOption = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache folder (default: $IMDB_SENTIMENT_CACHE or the XDG cache).")
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option(
            help="Also write these splits' reviews to this .parquet file, which --data and IMDB_DATA accept "
            "(train alone is 11 MB: for a machine with little room, such as a lent GPU)."
        ),
    ] = None,
    splits: Annotated[str, typer.Option(help="The splits --export writes, comma-separated.")] = "train,test",
) -> None:
    """Find, verify and cache the dataset, then print the split counts."""
    import pandas as pd

    from imdb_sentiment.data import cache_file, export_reviews, load_imdb

    start = time.perf_counter()
    if export is not None:
        chosen = tuple(part.strip() for part in splits.split(",") if part.strip())
        written = export_reviews(export, chosen, data=data, cache=cache_dir)
        console.print(f"exported {written:,} reviews ({', '.join(chosen)}) to {export}", highlight=False)
    dataset = load_imdb(data, cache=cache_dir, include_unsup=True)
    table = Table(title="Large Movie Review Dataset")
    for column in ("split", "reviews", "positive", "negative"):
        table.add_column(column, justify="left" if column == "split" else "right")
    rows = {
        "train": pd.concat([dataset.train, dataset.validation]),
        "├ fit": dataset.train,
        "└ validation": dataset.validation,
        "test": dataset.test,
        "unsup": dataset.unsup,
    }
    for name, frame in rows.items():
        pos = int((frame["label"] == 1).sum())
        neg = int((frame["label"] == 0).sum())
        table.add_row(name, f"{len(frame):,}", f"{pos:,}", f"{neg:,}")
    console.print(table)
    console.print(f"source:      {dataset.source}", highlight=False, soft_wrap=True)
    console.print(f"fingerprint: {dataset.fingerprint}", highlight=False)
    console.print(f"cache:       {cache_file(dataset.fingerprint, cache=cache_dir)}", highlight=False, soft_wrap=True)
    split = dataset.split
    console.print(
        f"ready in {time.perf_counter() - start:.1f} s; validation = {split.validation_fraction:.0%} of train, "
        f"stratified, seed {split.seed}",
        highlight=False,
    )


@app.command()
@guard
def train(
    model: Annotated[
        str, typer.Option("--model", help=f"Model kind to train: {', '.join(available_kinds())}.")
    ] = DEFAULT_KIND,
    data: DataOption = None,
    out: Annotated[Path | None, typer.Option(help="Folder to save the model to (default: models/KIND).")] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Maximum number of epochs (early stopping may end sooner).")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for the validation split and the model.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of config keys for this kind.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Override one config key: key=value (repeatable).")
    ] = None,
    validation_fraction: Annotated[float, typer.Option(help="Share of train held out for validation.")] = 0.1,
    limit: Annotated[int | None, typer.Option(help="Train on a seeded stratified sample of N train reviews.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No training progress.")] = False,
) -> None:
    """Train a model on the train split (validation carved from it), save it, print validation metrics."""
    from imdb_sentiment.config import SplitConfig
    from imdb_sentiment.models.registry import get_model_class
    from imdb_sentiment.training import train as train_model

    cls = get_model_class(model)
    cfg = cls.config_class.from_toml(config) if config else cls.config_class()
    flags = {"epochs": epochs, "seed": seed}
    for key, value in flags.items():
        if value is not None:
            if key not in cfg.to_dict():
                raise ConfigError(f"model kind {model!r} has no {key!r} setting")
            cfg = cfg.replace(**{key: value})
    cfg = cfg.with_overrides(set_ or [])
    split = SplitConfig(validation_fraction=validation_fraction, seed=seed if seed is not None else 0)
    if limit is not None and limit < 2:
        raise InputError("--limit must be at least 2 (one review of each class)")
    out = out or Path("models") / model
    start = time.perf_counter()
    fitted = train_model(model, config=cfg, data=data, split=split, out=out, limit=limit, verbose=not quiet)
    metrics = fitted.info_["metrics"].get("validation")
    if metrics:
        print_metrics(metrics, title=f"{model}: validation ({metrics['n']:,} reviews carved from train)")
    console.print(f"trained in {time.perf_counter() - start:.1f} s; model saved to {out}", highlight=False)


@app.command()
@guard
def reconfigure(
    model_dir: Annotated[Path, typer.Argument(help="A saved model folder.")],
    out: Annotated[Path, typer.Option(help="Folder to save the copy to (may be MODEL_DIR itself).")],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Change one inference setting: key=value (repeatable)."),
    ] = None,
    data: DataOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Copy a saved model with other inference settings and re-score it on its validation reviews."""
    import warnings

    from imdb_sentiment.config import parse_assignments
    from imdb_sentiment.training import reconfigure as reconfigure_model

    changes = parse_assignments(set_ or [])
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        fitted = reconfigure_model(model_dir, changes, out=out, data=data, verbose=not quiet)
    for warning in caught:
        err_console.print(f"[yellow]warning:[/] {escape(str(warning.message))}", highlight=False, soft_wrap=True)
    step = fitted.info_["reconfigured"][-1]
    for key, change in step["changes"].items():
        console.print(f"{key}: {change['was']!r} -> {change['now']!r}", highlight=False)
    print_comparison(step["previous_validation"], fitted.info_["metrics"].get("validation"))
    console.print(f"saved to {out} in {time.perf_counter() - start:.1f} s", highlight=False)


@app.command()
@guard
def export(
    model_dir: Annotated[Path, typer.Argument(help="A saved model folder of a kind that exports to ONNX.")],
    out: Annotated[Path, typer.Option(help="Folder to write the exported model to.")],
    onnx: Annotated[
        bool, typer.Option("--onnx/--no-onnx", help="Export to ONNX, run with onnxruntime (the only format).")
    ] = True,
    int8: Annotated[bool, typer.Option("--int8", help="Quantise the linear layers' weights to int8.")] = False,
    keep_weights: Annotated[
        str,
        typer.Option(
            help="Also keep the PyTorch weights beside the ONNX graph, as float16 or float32 "
            "(for explanations by integrated gradients and further training); empty: ONNX only."
        ),
    ] = "",
) -> None:
    """Export a model to ONNX (kinds that support it); the exported folder loads like any saved model."""
    from imdb_sentiment.models.registry import load_model

    if not onnx:
        raise InputError("ONNX is the only export format; pass --onnx")
    fitted = load_model(model_dir)
    start = time.perf_counter()
    fitted.export_onnx(out, int8=int8, keep_weights=keep_weights)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    console.print(
        f"exported {model_dir} to {out} ({'int8 ' if int8 else ''}ONNX, {size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - start:.1f} s",
        highlight=False,
    )
