"""The ``imdb-sentiment`` command: one verb per job.

Every verb turns the library's deliberate errors (:class:`~imdb_sentiment.errors.ImdbSentimentError`) into
one line on stderr and a non-zero exit; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imdb_sentiment.errors import USER_ERRORS, ConfigError, ImdbSentimentError, InputError
from imdb_sentiment.models.registry import DEFAULT_KIND, available_kinds

app = typer.Typer(
    name="imdb-sentiment",
    help="Tell whether movie reviews are positive or negative: prepare data, train, evaluate, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_state = {"debug": False}
_out = Console()
_err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="The dataset's .tar.gz or extracted aclImdb/ folder (default: $IMDB_DATA, the cache, a download).",
    ),
]


ModelArgument = Annotated[
    str | None,
    typer.Argument(
        help="A saved model folder, or 'pretrained' (the default: the model shipped in the package).",
        show_default=False,
    ),
]


def _model_ref(ref: str | Path | None) -> Path:
    """The folder of a model reference (``None``: the shipped model), checked to exist."""
    from imdb_sentiment.pretrained import resolve

    return resolve(ref)


def _split_model(args: list[str], *, most_texts: int | None = None) -> tuple[Path, list[str]]:
    """``[MODEL] TEXT...``: the first argument is the model when it names one, else the shipped model is used.

    It names one when it is ``pretrained`` or a folder with a manifest, when more texts are given than the
    verb takes, or when it is a path (a slash, no spaces) followed by texts: a mistyped model folder must
    fail as one rather than be scored as a review.
    """
    from imdb_sentiment.pretrained import is_model_ref

    first = args[0] if args else ""
    looks_like_path = bool(first) and not any(c.isspace() for c in first) and "/" in first
    if args and (
        is_model_ref(first)
        or (most_texts is not None and len(args) > most_texts)
        or (len(args) > 1 and looks_like_path)
    ):
        return _model_ref(first), args[1:]
    return _model_ref(None), args


class Split(StrEnum):
    train = "train"
    validation = "validation"
    test = "test"


def _guard(command: F) -> F:
    """Run a command, turning deliberate errors into one stderr line and exit code 1 (2 for bad usage)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ImdbSentimentError as exc:
            if _state["debug"]:
                raise
            _err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, USER_ERRORS) else 1) from None
        except KeyboardInterrupt:
            _err.print("interrupted", highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False) -> None:
    _state["debug"] = debug


@app.command()
@_guard
def data(
    data: DataOption = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache folder (default: $IMDB_SENTIMENT_CACHE or the XDG cache).")
    ] = None,
) -> None:
    """Find, verify and cache the dataset, then print the split counts."""
    import pandas as pd

    from imdb_sentiment.data import cache_file, load_imdb

    start = time.perf_counter()
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
    _out.print(table)
    _out.print(f"source:      {dataset.source}", highlight=False, soft_wrap=True)
    _out.print(f"fingerprint: {dataset.fingerprint}", highlight=False)
    _out.print(f"cache:       {cache_file(dataset.fingerprint, cache=cache_dir)}", highlight=False, soft_wrap=True)
    split = dataset.split
    _out.print(
        f"ready in {time.perf_counter() - start:.1f} s; validation = {split.validation_fraction:.0%} of train, "
        f"stratified, seed {split.seed}",
        highlight=False,
    )


@app.command()
@_guard
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
        _print_metrics(metrics, title=f"{model}: validation ({metrics['n']:,} reviews carved from train)")
    _out.print(f"trained in {time.perf_counter() - start:.1f} s; model saved to {out}", highlight=False)


@app.command()
@_guard
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
        _err.print(f"[yellow]warning:[/] {escape(str(warning.message))}", highlight=False, soft_wrap=True)
    step = fitted.info_["reconfigured"][-1]
    for key, change in step["changes"].items():
        _out.print(f"{key}: {change['was']!r} -> {change['now']!r}", highlight=False)
    _print_comparison(step["previous_validation"], fitted.info_["metrics"].get("validation"))
    _out.print(f"saved to {out} in {time.perf_counter() - start:.1f} s", highlight=False)


@app.command()
@_guard
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
        _model_ref(model), split=split.value, data=data, limit=limit, seed=seed, file=input_,
        text_column=text_column, label_column=label_column, report=report,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(metrics))
    else:
        _print_metrics(metrics, title=f"{metrics['kind']} on {metrics['dataset']} ({metrics['n']:,} reviews)")
        if report is not None:
            _out.print(f"report written to {report}", highlight=False)


@app.command()
@_guard
def predict(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="[MODEL] TEXT...: reviews to classify, after an optional saved model folder "
            "(default: the shipped model).",
            show_default=False,
        ),
    ] = None,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input", help="CSV, TSV, JSON(L), Parquet or .txt file (one review per line), a folder, or - for stdin."
        ),
    ] = None,
    text_column: Annotated[str, typer.Option(help="Text column of --input.")] = "text",
    max_chars: Annotated[int, typer.Option(help="Longer reviews are refused, as by score.")] = 100_000,
    output: Annotated[Path | None, typer.Option(help="Write the JSON lines here instead of stdout.")] = None,
) -> None:
    """Classify reviews: one JSON line each, {"label", "probability", "p_positive"}."""
    from imdb_sentiment.io.readers import read_table
    from imdb_sentiment.io.readers import text_column as read_texts
    from imdb_sentiment.io.writers import write_jsonl
    from imdb_sentiment.models.registry import load_model
    from imdb_sentiment.scoring import check_texts, score_rows

    model_dir, texts = _split_model(list(args or []))
    # Every review passes the one row check of score and the app (imdb_sentiment.scoring.text_problem).
    items = check_texts(texts, max_chars, lambda i: f"review {i + 1}")
    ids = None
    if input_ is not None:
        frame = read_table(input_)
        source = "standard input" if input_ == "-" else input_
        items += read_texts(frame, text_column, source=source, max_chars=max_chars)
        ids = frame["id"].tolist() if "id" in frame.columns and not texts else None
    if not items:
        raise InputError("no reviews given: pass TEXT arguments or --input FILE (or - for stdin)")
    predictions = score_rows(load_model(model_dir), items, max_chars).predictions()
    records = [p.to_dict(digits=6) for p in predictions if p is not None]
    write_jsonl([{"id": ids[i], **r} for i, r in enumerate(records)] if ids is not None else records, output)


@app.command()
@_guard
def score(
    input_: Annotated[
        str,
        typer.Option(
            "--input", help="CSV, TSV, JSON(L), Parquet or .txt file, a folder of them, or - (JSONL or lines on stdin)."
        ),
    ],
    output: Annotated[
        Path, typer.Option(help="Output .parquet, .csv, .tsv or .jsonl; problems go to NAME.errors.csv.")
    ],
    model: ModelArgument = None,
    text_column: Annotated[str, typer.Option(help="The column holding the reviews.")] = "text",
    id_columns: Annotated[
        str | None, typer.Option(help="Comma-separated input columns to copy (default: all but the text column).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows read and scored at a time.")] = 8192,
    workers: Annotated[int, typer.Option(help="Batches scored at once (default: one per core).")] = 0,
    max_chars: Annotated[int, typer.Option(help="Longer reviews go to the errors file.")] = 100_000,
    engine: Annotated[str, typer.Option(help="local (threads) or ray (Ray Data actors).")] = "local",
    ray_address: Annotated[str, typer.Option(help="Join this Ray cluster (default: start a local Ray).")] = "",
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Score a file or folder of reviews of any size into one file, in input order, with an errors file."""
    from imdb_sentiment.batch import score as run_score
    from imdb_sentiment.config import ScoreConfig

    config = ScoreConfig.from_dict(
        {
            "text_column": text_column,
            "id_columns": None if id_columns is None else id_columns,
            "batch_size": batch_size,
            "workers": workers,
            "max_chars": max_chars,
            "engine": engine,
            "ray_address": ray_address,
        }
    )
    summary = run_score(_model_ref(model), input_, output, config, progress=not quiet)
    plural = "s" if summary.errors != 1 else ""
    errors = f", {summary.errors:,} error{plural} in {summary.errors_file}" if summary.errors else ", no errors"
    _err.print(
        f"scored {summary.scored:,} of {summary.rows:,} rows into {summary.output}{errors}; "
        f"{summary.seconds:.1f} s, {summary.rows_per_s:,.0f} rows/s ({summary.engine}, {summary.workers} workers)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
@_guard
def explain(
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="[MODEL] [TEXT]: the review to explain (or --input), after an optional saved model folder "
            "(default: the shipped model).",
            show_default=False,
        ),
    ] = None,
    input_: Annotated[Path | None, typer.Option("--input", help="Read the review from this text file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as one JSON object.")] = False,
    html_out: Annotated[
        Path | None, typer.Option("--html", help="Write an HTML page with the highlighted review.")
    ] = None,
    attention_png: Annotated[
        Path | None, typer.Option("--attention-png", help="Write an attention heatmap (models that show attention).")
    ] = None,
    layer: Annotated[int | None, typer.Option(help="Attention layer for the heatmap (default: rollout).")] = None,
    head: Annotated[int | None, typer.Option(help="Attention head (default: mean over heads).")] = None,
    top_k: Annotated[int, typer.Option(help="Words listed either way in the terminal view.")] = 10,
    steps: Annotated[int | None, typer.Option(help="Integrated-gradients steps (kinds explained by them).")] = None,
) -> None:
    """Explain one prediction: the words that pushed it towards positive or negative."""
    from imdb_sentiment.explain import plot_attention, to_html, to_terminal
    from imdb_sentiment.models.registry import load_model

    model_dir, rest = _split_model(list(args or []), most_texts=1)
    if len(rest) > 1:
        raise InputError("give one review to explain (quote it), after an optional model folder")
    text = rest[0] if rest else None
    if (text is None) == (input_ is None):
        raise InputError("give the review as TEXT or with --input FILE (one of them)")
    if input_ is not None:
        try:
            text = input_.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {input_}: {exc}") from None
    assert text is not None
    if top_k < 1:
        raise InputError("--top-k must be at least 1")
    if steps is not None and steps < 1:
        raise InputError("--steps must be at least 1")
    fitted = load_model(model_dir)
    # Options a kind does not take are dropped by the model contract (SentimentModel.explain_options).
    options: dict[str, Any] = {"attention": attention_png is not None}
    if steps is not None:
        options["n_steps"] = steps
    explanation = fitted.explain(text, **options)
    if html_out is not None:
        from imdb_sentiment._atomic import atomic_path

        with atomic_path(html_out) as tmp:
            tmp.write_text(
                "<!doctype html><meta charset='utf-8'><title>imdb-sentiment explanation</title>"
                + to_html(explanation, title=f"{fitted.kind}: {model_dir}"),
                encoding="utf-8",
            )
    if attention_png is not None:
        plot_attention(explanation, attention_png, layer=layer, head=head)
    if as_json:
        typer.echo(explanation.to_json())
    else:
        _out.print(to_terminal(explanation, top_k=top_k), highlight=False, soft_wrap=True)


@app.command("compare-explanations")
@_guard
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
    test = load_imdb(data).test
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
    _out.print(table)
    agreement = ", ".join(f"{k} {v:.3f}" for k, v in summary["agreement"].items())
    _out.print(f"agreement of word rankings: {agreement}", highlight=False)
    _out.print(f"predictions differ on {summary['predictions_disagree']} reviews; report: {report / 'index.html'}",
               highlight=False)  # fmt: skip


@app.command()
@_guard
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
    _out.print(
        f"exported {model_dir} to {out} ({'int8 ' if int8 else ''}ONNX, {size / 2**20:.1f} MiB) "
        f"in {time.perf_counter() - start:.1f} s",
        highlight=False,
    )


@app.command()
@_guard
def serve(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="Saved model folders; the first is the default (none: the shipped model).", show_default=False
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes, each with its own copy of the models (one per core).")
    ] = 1,
) -> None:
    """Serve models over HTTP: POST /v1/predict and /v1/explain, GET /v1/models and /health."""
    from imdb_sentiment.serving import run

    def announce(url: str) -> None:
        _out.print(f"serving at {url}; API docs at {url}/docs; Ctrl-C stops", highlight=False, soft_wrap=True)

    folders = [_model_ref(m) for m in models] if models else [_model_ref(None)]
    run(folders, host, port, announce=announce, workers=workers)


@app.command("app")
@_guard
def app_(
    model_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Saved model folders; the first is selected at start "
            "(default: the shipped model and those under ./models)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8501,
) -> None:
    """Open the web app (Streamlit): analyse, compare, score files, and read model reports."""
    from imdb_sentiment.ui.launch import run

    # Streamlit prints the address once it listens; the models and the port are checked before that.
    code = run(model_dirs or [], host=host, port=port)
    if code != 0:
        raise typer.Exit(code)


def _print_metrics(metrics: dict[str, Any], *, title: str) -> None:
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, fmt in (
        ("accuracy", "{:.2%}"),
        ("log_loss", "{:.4f}"),
        ("f1", "{:.4f}"),
        ("roc_auc", "{:.4f}"),
        ("n", "{:,}"),
        ("reviews_per_s", "{:,.0f}"),
    ):
        if metrics.get(key) is not None:
            table.add_row(key.replace("_", " "), fmt.format(metrics[key]))
    cm = metrics.get("confusion_matrix")
    if cm:
        table.add_row("true neg -> pred neg / pos", f"{cm[0][0]:,} / {cm[0][1]:,}")
        table.add_row("true pos -> pred neg / pos", f"{cm[1][0]:,} / {cm[1][1]:,}")
    _out.print(table)


def _print_comparison(before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    if after is None:
        _out.print("no validation figures: the model's manifest does not say which reviews it was trained without")
        return
    table = Table(title=f"validation, {after['n']:,} reviews")
    for column in ("metric", "before", "after"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for key, fmt in (
        ("accuracy", "{:.2%}"),
        ("log_loss", "{:.4f}"),
        ("roc_auc", "{:.4f}"),
        ("reviews_per_s", "{:,.1f}"),
    ):
        if after.get(key) is not None:
            old = (before or {}).get(key)
            table.add_row(key.replace("_", " "), "-" if old is None else fmt.format(old), fmt.format(after[key]))
    _out.print(table)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="imdb-sentiment")


if __name__ == "__main__":  # pragma: no cover
    main()
