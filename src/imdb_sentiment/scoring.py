"""The scoring core every surface shares: the one check of a review text, and the one chunk scorer.

``predict`` (texts and ``--input``), ``score`` (both engines), the app's upload page and the HTTP API all
decide "is this a usable review?" with :func:`text_problem` (or :func:`column_problems`, its vectorised
Arrow form, tested equal to it) and turn texts into predictions with :func:`score_rows` (or
:func:`score_chunk` for an Arrow table), whose labels come from :mod:`imdb_sentiment.labels`: a review is
positive iff ``p_positive >= 0.5``, everywhere.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from imdb_sentiment.config import ScoreConfig
from imdb_sentiment.errors import InputError
from imdb_sentiment.labels import Prediction, label_names
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.models.rating import STARS

#: Internal column carrying each row's problem (null when the row was scored); never written.
REASON = "__reason"
#: Internal column carrying each row's input file, added by the Ray engine; never written.
SOURCE = "__source"


def text_problem(value: object, max_chars: int | None) -> str | None:
    """Why ``value`` cannot be scored as a review, or ``None`` when it can.

    Args:
        value: One cell or argument: a review is a string with something other than white space.
        max_chars: Longer reviews are refused; ``None``: no limit.

    Returns:
        ``"empty"``, ``"not text (<type>)"``, ``"<n> characters, over the limit of <max_chars>"``, or ``None``.
    """
    if not isinstance(value, str):
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return "empty" if missing else f"not text ({type(value).__name__})"
    if not value.strip():
        return "empty"
    if max_chars is not None and len(value) > max_chars:
        return f"{len(value):,} characters, over the limit of {max_chars:,}"
    return None


def column_problems(column: pa.ChunkedArray | pa.Array, max_chars: int) -> list[str | None]:
    """:func:`text_problem` for every value of an Arrow column, computed with Arrow's string kernels."""
    n = len(column)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return [None if v is None else f"not text ({column.type})" for v in column.to_pylist()] if n else []
    # Kernels that read the strings once and copy nothing: a review is blank when it has no characters
    # or only white space, and can only be over the limit in characters if it is over it in bytes.
    size = pc.binary_length(column)
    empty = pc.fill_null(pc.or_(pc.equal(size, 0), pc.utf8_is_space(column)), True).to_numpy(zero_copy_only=False)
    long_bytes = pc.fill_null(pc.greater(size, max_chars), False).to_numpy(zero_copy_only=False)
    lengths = np.zeros(n, dtype=np.int64)
    if long_bytes.any():
        lengths[long_bytes] = pc.utf8_length(column.filter(pa.array(long_bytes))).to_numpy(zero_copy_only=False)
    problems: list[str | None] = [None] * n
    for i in np.flatnonzero(empty | (lengths > max_chars)):
        problems[i] = "empty" if empty[i] else f"{int(lengths[i]):,} characters, over the limit of {max_chars:,}"
    return problems


def check_texts(values: Sequence[object], max_chars: int | None, where: Callable[[int], str]) -> list[str]:
    """Return ``values`` as reviews, or refuse the first that :func:`text_problem` rejects.

    Args:
        values: The reviews, as given.
        max_chars: Longer reviews are refused; ``None``: no limit.
        where: Names the ``i``-th value (0-based) in the message: ``review 3``, ``in.csv: row 3 of column 'text'``.

    Raises:
        InputError: ``"<where(i)> is <problem>"`` for the first value with a problem.
    """
    for i, value in enumerate(values):
        problem = text_problem(value, max_chars)
        if problem is not None:
            raise InputError(f"{where(i)} is {problem}")
    return cast(list[str], list(values))  # every value passed text_problem: all are str


@dataclasses.dataclass(frozen=True)
class RowScores:
    """The predictions for a chunk of rows: each row was scored, or has a problem."""

    #: Per row, why it was not scored (``None``: it was).
    problems: list[str | None]
    #: Per row, P(positive); NaN where not scored.
    p_positive: np.ndarray
    #: Per row, the distribution over :data:`~imdb_sentiment.models.rating.STARS` (NaN where not scored);
    #: ``None`` when the model has no rating head.
    stars: np.ndarray | None = None

    @property
    def rating(self) -> np.ndarray | None:
        """The predicted stars per row (the distribution's median; 0 where not scored), or ``None``."""
        if self.stars is None:
            return None
        from imdb_sentiment.models.rating import median_stars

        return np.where(self.scored, median_stars(np.nan_to_num(self.stars, nan=1.0)), 0)

    @property
    def scored(self) -> np.ndarray:
        """A boolean mask of the rows that were scored."""
        return np.array([p is None for p in self.problems], dtype=bool)

    @property
    def labels(self) -> np.ndarray:
        """``"negative"`` / ``"positive"`` per row (by :func:`imdb_sentiment.labels.label_names`); only
        meaningful where :attr:`scored`."""
        return label_names(np.nan_to_num(self.p_positive, nan=0.0))

    def predictions(self) -> list[Prediction | None]:
        """One :class:`~imdb_sentiment.labels.Prediction` per row, ``None`` where the row was not scored."""
        stars = self.rating
        ratings: list[int | None] = [None] * len(self.problems) if stars is None else stars.tolist()
        return [
            None if problem else Prediction.from_p_positive(p, None if r is None else int(r))
            for problem, p, r in zip(self.problems, self.p_positive, ratings, strict=True)
        ]


def score_rows(
    model: SentimentModel,
    values: Sequence[object],
    max_chars: int | None,
    *,
    problems: Sequence[str | None] | None = None,
) -> RowScores:
    """The one chunk scorer: check every row, then predict (and rate) the good ones in one pass of the model.

    Args:
        model: A fitted or loaded model.
        values: The rows' reviews, as read (non-text values are reported, not scored).
        max_chars: Longer reviews are reported, not scored; ``None``: no limit.
        problems: Problems already known per row (from :func:`column_problems` or parsing); rows without
            one are scored.

    Returns:
        Each row's problem or P(positive).
    """
    if problems is None:
        problems = [text_problem(v, max_chars) for v in values]
    problems = list(problems)
    good = [i for i, problem in enumerate(problems) if problem is None]
    p_positive = np.full(len(values), np.nan)
    stars = np.full((len(values), len(STARS)), np.nan) if model.rates else None
    if good:
        texts = [cast(str, values[i]) for i in good]  # text_problem passed them: all are str
        # A model that rates: one pass, since the head may read the model's features. One that does not is
        # asked predict_proba itself, not predict_proba_and_stars' fallback to it: a wrapper that delegates
        # other attributes to a model (tests count rows that way) must see the call.
        if model.rates:
            proba, rated = model.predict_proba_and_stars(texts)
        else:
            proba, rated = model.predict_proba(texts), None
        p_positive[good] = np.asarray(proba, dtype=np.float64)[:, 1]
        if stars is not None and rated is not None:
            stars[good] = rated
    return RowScores(problems, p_positive, stars)


def predict_one(model: SentimentModel, text: str, *, p_positive: float | None = None) -> Prediction:
    """The prediction for one review already checked, rated by the rule of every surface when the model rates.

    Args:
        model: A fitted or loaded model.
        text: One review.
        p_positive: The model's P(positive) for ``text`` when already known (an explanation carries it): the
            model is not run again for it (a rating head that reads the model's features runs it once).
    """
    if p_positive is None:
        scored = score_rows(model, [text], None, problems=[None])
    else:
        p = np.array([float(p_positive)])
        scored = RowScores([None], p, model.predict_stars([text], p) if model.rates else None)
    return cast(Prediction, scored.predictions()[0])  # the row had no problem: it has a prediction


def score_texts(model: SentimentModel, texts: Sequence[str], *, max_chars: int | None = None) -> list[Prediction]:
    """Predict every review of a list, or refuse the list: for callers that want all or nothing (the API).

    Raises:
        InputError: a text is empty, not a string or too long (the message names which and why).
    """
    if isinstance(texts, str):
        raise InputError("expected a list of reviews, got one string; wrap it in a list: [text]")
    checked = check_texts(texts, max_chars, lambda i: f"review {i + 1}")
    return [p for p in score_rows(model, checked, max_chars).predictions() if p is not None]


def output_columns(input_columns: list[str], config: ScoreConfig) -> list[str]:
    """The input columns copied to the output: ``config.id_columns``, or all but the text column.

    Raises:
        InputError: the text column or an id column is missing.
    """
    found = ", ".join(input_columns) or "none"
    if config.text_column not in input_columns:
        raise InputError(f"the input has no column {config.text_column!r} (--text-column); its columns are: {found}")
    if config.id_columns is None:
        return [c for c in input_columns if c != config.text_column]
    missing = [c for c in config.id_columns if c not in input_columns]
    if missing:
        raise InputError(
            f"the input has no column(s) {', '.join(map(repr, missing))} (--id-columns); its columns are: {found}"
        )
    return list(config.id_columns)


def free_name(name: str, taken: Sequence[str]) -> str:
    """``name``, or ``predicted_<name>`` when the input has a column of that name (its own labels)."""
    return name if name not in taken else f"predicted_{name}"


def score_chunk(
    model: SentimentModel,
    table: pa.Table,
    config: ScoreConfig,
    model_name: str,
    reasons: Sequence[str | None] | None = None,
) -> pa.Table:
    """:func:`score_rows` for an Arrow table: the kept input columns, label, P(positive), model and :data:`REASON`.

    Rows with a problem (from parsing, ``reasons``, or :func:`column_problems`) get null predictions and
    their reason. Both engines of :func:`imdb_sentiment.batch.score` call this, so they agree.

    Raises:
        InputError: the text column or an id column is missing.
    """
    kept = output_columns(table.column_names, config)
    column = table[config.text_column]
    problems = column_problems(column, config.max_chars)
    if reasons is not None:
        problems = [r if r is not None else p for r, p in zip(reasons, problems, strict=True)]
    values = column.to_pylist()
    rows = score_rows(model, values, config.max_chars, problems=problems)
    missing = ~rows.scored
    rating = rows.rating
    out = (
        table.select(kept)
        .append_column(free_name("label", kept), pa.array(rows.labels, pa.string(), mask=missing))
        .append_column(free_name("p_positive", kept), pa.array(rows.p_positive, pa.float64(), mask=missing))
        # Always there, so that files scored by models with and without a rating head have one schema.
        .append_column(
            free_name("rating", kept),
            pa.array(
                rating if rating is not None else np.zeros(len(values)), pa.int8(), mask=missing | (rating is None)
            ),
        )
        .append_column(free_name("model", kept), pa.array([model_name] * table.num_rows, pa.string()))
    )
    if config.detail:
        from imdb_sentiment.audience.detail import detail_columns

        for name, array in detail_columns(model, values, rows.scored, rows.p_positive, rows.stars).items():
            out = out.append_column(free_name(name, kept), array)
    return out.append_column(REASON, pa.array(rows.problems, pa.string()))
