"""Verbs that use a model on reviews: ``predict``, ``score`` (files of any size) and ``explain``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from imdb_sentiment.cli.common import ModelArgument, app, console, err_console, guard, model_ref, split_model
from imdb_sentiment.errors import InputError


@app.command()
@guard
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
    """Classify reviews: one JSON line each, {"label", "probability", "p_positive", "rating"} (rating: the
    predicted 1-10 stars, when the model has a rating head, as the shipped one does)."""
    from imdb_sentiment.io.readers import read_table
    from imdb_sentiment.io.readers import text_column as read_texts
    from imdb_sentiment.io.writers import write_jsonl
    from imdb_sentiment.models.registry import load_model
    from imdb_sentiment.scoring import check_texts, score_rows

    model_dir, texts = split_model(list(args or []))
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
@guard
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
    workers: Annotated[
        int, typer.Option(help="Batches scored at once (default: one per core; a transformer: one on every core).")
    ] = 0,
    max_chars: Annotated[int, typer.Option(help="Longer reviews go to the errors file.")] = 100_000,
    engine: Annotated[str, typer.Option(help="local (threads) or ray (Ray Data actors).")] = "local",
    ray_address: Annotated[str, typer.Option(help="Join this Ray cluster (default: start a local Ray).")] = "",
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    resume: Annotated[
        bool, typer.Option(help="Finish the interrupted run into --output (OUTPUT.partial/) without rescoring.")
    ] = False,
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
            "resume": resume,
        }
    )
    summary = run_score(model_ref(model), input_, output, config, progress=not quiet)
    plural = "s" if summary.errors != 1 else ""
    errors = f", {summary.errors:,} error{plural} in {summary.errors_file}" if summary.errors else ", no errors"
    err_console.print(
        f"scored {summary.scored:,} of {summary.rows:,} rows into {summary.output}{errors}; "
        f"{summary.seconds:.1f} s, {summary.rows_per_s:,.0f} rows/s "
        f"({summary.engine}, {summary.workers} worker{'s' if summary.workers != 1 else ''})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@app.command()
@guard
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

    model_dir, rest = split_model(list(args or []), most_texts=1)
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
    # The rating the other surfaces show beside the label, from the explained probability (no second pass).
    from imdb_sentiment.scoring import predict_one

    rating = predict_one(fitted, text, p_positive=explanation.p_positive).rating
    # What it says about each aspect it names (acting, story...), each clause read as summarize reads it.
    from imdb_sentiment.audience.polarity import review_aspects

    aspects = review_aspects(fitted, text, explanation.p_positive)
    if as_json:
        import json

        record = json.loads(explanation.to_json())
        typer.echo(json.dumps({**record, **({"rating": rating} if rating is not None else {}), "aspects": aspects}))
    else:
        console.print(to_terminal(explanation, top_k=top_k), highlight=False, soft_wrap=True)
        if rating is not None:
            console.print(f"\npredicted rating: {rating}/10", highlight=False)
        if aspects:
            console.print("\naspects:", highlight=False)
            for said in aspects:
                sign = "+" if said["label"] == "positive" else "-"
                console.print(
                    f"  {said['aspect']:<11} {sign} {said['p_positive']:.2f}  {said['clause']}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
