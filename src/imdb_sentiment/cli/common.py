"""What every verb shares: the Typer app, the consoles, the one error guard and the common arguments.

Every verb turns the library's deliberate errors (:class:`~imdb_sentiment.errors.ImdbSentimentError`) into
one line on stderr and a non-zero exit (2 for the caller's mistakes, :data:`~imdb_sentiment.errors.USER_ERRORS`;
1 otherwise); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from imdb_sentiment.errors import USER_ERRORS, ImdbSentimentError

app = typer.Typer(
    name="imdb-sentiment",
    help="Tell whether movie reviews are positive or negative: prepare data, train, evaluate, predict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
state = {"debug": False}
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="The dataset's .tar.gz, extracted aclImdb/ folder or .parquet export (default: $IMDB_DATA, the cache, "
        "a download).",
    ),
]


ModelArgument = Annotated[
    str | None,
    typer.Argument(
        help="A saved model folder, or 'pretrained' (the default: the model shipped in the package).",
        show_default=False,
    ),
]


def model_ref(ref: str | Path | None) -> Path:
    """The folder of a model reference (``None``: the shipped model), checked to exist."""
    from imdb_sentiment.pretrained import resolve

    return resolve(ref)


def split_model(args: list[str], *, most_texts: int | None = None) -> tuple[Path, list[str]]:
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
        return model_ref(first), args[1:]
    return model_ref(None), args


class Split(StrEnum):
    train = "train"
    validation = "validation"
    test = "test"


def guard(command: F) -> F:
    """Run a command, turning deliberate errors into one stderr line and exit code 1 (2 for bad usage)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ImdbSentimentError as exc:
            if state["debug"]:
                raise
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, USER_ERRORS) else 1) from None
        except OSError as exc:
            # The machine's, not the library's: a full disk, a read-only folder, a vanished mount. One line
            # says which file and why; what was being written is left as it was (see _atomic.py).
            if state["debug"]:
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            err_console.print(
                f"[bold red]error:[/] {escape(exc.strerror or str(exc))}{escape(where)}",
                markup=True, highlight=False, soft_wrap=True,
            )  # fmt: skip
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err_console.print("interrupted", highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False) -> None:
    state["debug"] = debug


def print_metrics(metrics: dict[str, Any], *, title: str) -> None:
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
    console.print(table)


def print_comparison(before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    if after is None:
        console.print("no validation figures: the model's manifest does not say which reviews it was trained without")
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
    console.print(table)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="imdb-sentiment")
