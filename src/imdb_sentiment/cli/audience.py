"""Verbs beyond positive/negative: ``summarize`` (per-group audience figures) and ``train-rating`` (the
star-rating head a model needs for them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from imdb_sentiment.cli.common import DataOption, ModelArgument, app, console, err_console, guard, model_ref


@app.command()
@guard
def summarize(
    output: Annotated[Path, typer.Option(help="Folder for groups.csv, aspects.csv, report.html, reviews.parquet.")],
    input_: Annotated[
        str | None,
        typer.Argument(
            metavar="[INPUT]",
            help="CSV, TSV, JSON(L), Parquet or .txt file, or a folder of them (or --split for IMDb itself).",
        ),
    ] = None,
    group_column: Annotated[
        str,
        typer.Option(
            help="The column naming each review's group (film, platform...); '' for one group of all reviews."
        ),
    ] = "film",
    time_column: Annotated[str, typer.Option(help="A column of dates: adds a trend over time.")] = "",
    id_column: Annotated[str, typer.Option(help="The column identifying reviews in examples (default: id).")] = "",
    text_column: Annotated[str, typer.Option(help="The column holding the reviews.")] = "text",
    model: Annotated[str | None, typer.Option(help="A saved model folder (default: the shipped model).")] = None,
    split: Annotated[
        str, typer.Option(help="Summarise IMDb's own split (test or train) by film, with the truth.")
    ] = "",
    data: DataOption = None,
    adjust: Annotated[
        str,
        typer.Option(
            help="sides: correct each group's share for label shift, each side's ratings as the reviews' mean there; "
            "em: correct the share and the whole star distribution; share: the share only; none: plain means."
        ),
    ] = "sides",  # SummarizeConfig().adjust (not imported here: the CLI starts without pandas)
    share_from: Annotated[
        str,
        typer.Option(
            help="rating: each group's share from the rating head's P(7-10 stars); classifier: from P(positive)."
        ),
    ] = "rating",
    min_reviews: Annotated[
        int, typer.Option(help="Groups with fewer reviews stay out of the report's rankings (not out of groups.csv).")
    ] = 10,
    examples: Annotated[int, typer.Option(help="Example sentences kept per group, aspect and side.")] = 3,
    limit: Annotated[
        int, typer.Option(help="With --split: whole films drawn at random (seeded) up to about this many reviews.")
    ] = 0,
    batch_size: Annotated[
        int, typer.Option(help="Rows read and scored at a time (small, so the cores share the work evenly).")
    ] = 1024,
    workers: Annotated[
        int, typer.Option(help="Batches scored at once (default: one per core; a transformer: one on every core).")
    ] = 0,
    engine: Annotated[str, typer.Option(help="local (threads) or ray (Ray Data actors).")] = "local",
    ray_address: Annotated[str, typer.Option(help="Join this Ray cluster (default: start a local Ray).")] = "",
    resume: Annotated[bool, typer.Option(help="Finish an interrupted run's scoring without rescoring.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Per group: how many liked it (with a 95% interval), the rating people would give, and what they
    praised or criticised (acting, story, music...), with example sentences; a table, a CSV and a report."""
    from imdb_sentiment.audience.summarize import SummarizeConfig
    from imdb_sentiment.audience.summarize import summarize as run
    from imdb_sentiment.audience.times import undated_message
    from imdb_sentiment.config import ScoreConfig

    config = SummarizeConfig(
        group_column=group_column,
        time_column=time_column,
        id_column=id_column,
        adjust=adjust,
        share_from=share_from,
        examples=examples,
        min_reviews=min_reviews,
    )
    score_config = ScoreConfig(
        text_column=text_column,
        batch_size=batch_size,
        workers=workers,
        engine=engine,
        ray_address=ray_address,
        resume=resume,
    )
    result = run(
        model_ref(model), input_, output, config, score_config, split=split, data=data, limit=limit, progress=not quiet
    )
    errors = f", {result.errors:,} rows in the errors file" if result.errors else ""
    err_console.print(
        f"summarised {result.reviews:,} reviews in {result.groups:,} group{'' if result.groups == 1 else 's'} "
        f"({result.mentions:,} aspect mentions"
        f"{errors}) in {result.seconds:.1f} s: {output}/groups.csv, aspects.csv, report.html",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    if undated := undated_message(result):
        err_console.print(f"warning: {undated}", highlight=False, markup=False, soft_wrap=True)


@app.command("train-rating")
@guard
def train_rating(
    model: ModelArgument = None,
    out: Annotated[Path | None, typer.Option(help="Save the model with its head here (default: in place).")] = None,
    data: DataOption = None,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Fit a star-rating head (1-10 stars, and the clause scorer for aspects) for a saved model."""
    from imdb_sentiment.training import train_rating as fit

    start = time.perf_counter()
    fitted = fit(model_ref(model), out=out, data=data, verbose=not quiet)
    head = fitted.rating_head_
    metrics = (head.info_.get("metrics") or {}).get("validation", {}) if head is not None else {}
    if metrics:
        console.print(
            f"validation ({metrics['n']:,} reviews): MAE {metrics['mae']:.3f} stars, within one star "
            f"{metrics['within_one']:.1%}, exact {metrics['exact']:.1%}, polarity from the rating "
            f"{metrics['polarity_accuracy']:.1%} (the classifier: {metrics['classifier_accuracy']:.1%})",
            highlight=False,
        )
    console.print(f"saved to {out or model_ref(model)} in {time.perf_counter() - start:.1f} s", highlight=False)


@app.command("attach-reader")
@guard
def attach_reader(
    model: Annotated[str, typer.Argument(help="A saved model folder, or 'pretrained'.")],
    reader: Annotated[
        str,
        typer.Option(
            help="A saved model to read aspect clauses with, or one that carries a clause reader, whose reader "
            "is taken ('pretrained': the shipped model's); 'none' removes the reader."
        ),
    ] = "pretrained",
    out: Annotated[Path | None, typer.Option(help="Save the model with its reader here (default: in place).")] = None,
) -> None:
    """Give a saved model a clause reader: what summarize, explain, the API and the app read aspects with."""
    from imdb_sentiment.training import attach_clause_reader

    start = time.perf_counter()
    fitted = attach_clause_reader(model, None if reader == "none" else reader, out=out)
    what = "no clause reader" if fitted.clause_reader_ is None else f"a clause reader ({fitted.clause_reader_.kind})"
    seconds = time.perf_counter() - start
    console.print(f"saved {out or model} with {what} in {seconds:.1f} s", highlight=False, markup=False, soft_wrap=True)
