"""Request and response schemas of the HTTP API; the request bounds come from the settings."""

# No `from __future__ import annotations`: the request models are built inside a function (their bounds
# come from the settings), and FastAPI reads their annotations at runtime.

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from imdb_sentiment.audience.groups import ADJUSTMENTS
from imdb_sentiment.audience.summarize import SHARE_SOURCES, SummarizeConfig
from imdb_sentiment.audience.summarize_texts import parse_time
from imdb_sentiment.errors import InputError
from imdb_sentiment.scoring import text_problem
from imdb_sentiment.settings import ServeSettings

#: Exactly the characters ``str.strip()`` removes, as a JSON-Schema pattern "holds something else", so a
#: schema-driven client (and schemathesis) agrees with the server on what a blank review is.
_NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


_RATING = (
    "Predicted star rating, 1-10 (the median of the model's star distribution); null when the model has no rating head."
)


class Prediction(BaseModel):
    label: Literal["negative", "positive"]
    probability: float = Field(description="Probability of `label`.")
    p_positive: float = Field(description="Probability that the review is positive.")
    rating: int | None = Field(ge=1, le=10, description=_RATING)


class PredictResponse(BaseModel):
    model: str = Field(description="Name of the model that answered.")
    predictions: list[Prediction] = Field(description="One per review, in the order given.")


class TokenOut(BaseModel):
    token: str
    start: int = Field(description="Character offset of the word in `text`.")
    end: int
    attribution: float = Field(description="Contribution to the log-odds of positive (negative: towards negative).")


class AspectMention(BaseModel):
    aspect: str = Field(description="acting, story, direction, characters, music, visuals, pacing, humour, ending.")
    term: str = Field(description="The words that named it.")
    sentence: str
    clause: str = Field(description="The part of the sentence judged (cut at but, however, ...).")
    p_positive: float = Field(description="Probability that the clause is positive about the aspect.")
    label: Literal["negative", "positive"]


class ExplainResponse(BaseModel):
    text: str
    label: Literal["negative", "positive"]
    probability: float
    p_positive: float
    rating: int | None = Field(ge=1, le=10, description=_RATING)
    method: str = Field(description="How the attributions were computed.")
    tokens: list[TokenOut] = Field(description="Every word of the review, in order.")
    details: dict[str, Any] = Field(description="Method-specific figures (intercept, baseline, ...).")
    pieces: list[str] | None = Field(default=None, description="Word pieces (models that read word pieces only).")
    top: list[TokenOut] | None = Field(default=None, description="The `top_k` words by |attribution|, if asked.")
    aspects: list[AspectMention] = Field(description="What the review says about each aspect it names, in order.")


class ModelInfo(BaseModel):
    name: str
    kind: str
    default: bool
    rates: bool = Field(description="Whether the model has a rating head: predicts stars, and can summarise.")
    metrics: dict[str, Any] = Field(description="Metrics stored with the model, by split (validation, test).")


class Example(BaseModel):
    review_id: str = Field(description="The review's `id`, or its 1-based position when it has none.")
    text: str = Field(description="The sentence that names the aspect.")
    p_positive: float = Field(description="Probability that the sentence's clause about the aspect is positive.")


class GroupSummary(BaseModel):
    group: str
    n: int = Field(description="Reviews in the group.")
    share_positive: float = Field(description="Estimated share of positive reviews.")
    share_positive_low: float | None = Field(description="Lower end of its 95% interval.")
    share_positive_high: float | None
    mean_rating: float = Field(description="Estimated mean star rating (1-10).")
    mean_rating_low: float | None = Field(description="Lower end of its 95% interval.")
    mean_rating_high: float | None
    stars: dict[str, float] = Field(description='Estimated share of each star rating: {"1": p, ..., "10": p}.')
    praised: list[str] = Field(
        description="Aspects its reviews clearly praise (5+ mentions, 95% interval of the share positive above "
        "one half), most mentioned first."
    )
    criticised: list[str] = Field(description="Aspects its reviews clearly criticise (interval below one half).")


class AspectSummary(BaseModel):
    group: str
    aspect: str = Field(description="acting, story, direction, characters, music, visuals, pacing, humour, ending.")
    mentions: int = Field(description="Sentences naming the aspect.")
    reviews: int = Field(description="Reviews with at least one such sentence.")
    share_positive: float = Field(description="Share of those sentences judged positive.")
    share_positive_low: float | None = Field(description="Lower end of its 95% (Wilson) interval.")
    share_positive_high: float | None
    positive_examples: list[Example] = Field(description="The most positive sentences, strongest first.")
    negative_examples: list[Example] = Field(description="The most negative sentences, strongest first.")


class TrendPoint(BaseModel):
    group: str | None = Field(description="null: all reviews; else one of the five largest groups.")
    period: str = Field(description="ISO date the period starts.")
    freq: str = Field(description="day, week, month, quarter or year.")
    n: int
    share_positive: float | None
    share_positive_low: float | None
    share_positive_high: float | None
    mean_rating: float | None
    mean_rating_low: float | None
    mean_rating_high: float | None


class SummarizeResponse(BaseModel):
    model: str = Field(description="Name of the model that answered.")
    groups: list[GroupSummary] = Field(description="One per group, the largest first.")
    aspects: list[AspectSummary] = Field(description="One per group and aspect mentioned, by group.")
    trend: list[TrendPoint] | None = Field(description="Per period, when reviews have a `time`; else null.")


class Health(BaseModel):
    status: Literal["ok"]
    models: list[str]


class ErrorMessage(BaseModel):
    detail: str


def _check_text(text: str) -> str:
    # The row check every surface shares; the length limit is the field's own (max_length), so that the
    # OpenAPI schema states it. (An unpaired surrogate such as "\ud800", which JSON allows, never gets here:
    # pydantic refuses it.)
    problem = text_problem(text, None)
    if problem is not None:
        raise PydanticCustomError("blank_text", f"the review is {problem} (only white space); give the review's text")
    return text


def _check_time(value: str | None) -> str | None:
    # The library's rule (ISO 8601), checked here so that a bad time is refused before any scoring, at its place.
    if value is not None:
        try:
            parse_time(value)
        except InputError as exc:
            raise PydanticCustomError("time_format", "{reason}", {"reason": str(exc)}) from None  # braces stay
    return value


#: What the time field accepts, for schema-driven clients: RFC 3339 dates and date-times (ISO 8601 forms
#: such as ``2024-05-01 20:15`` are accepted too).
_TIME_SCHEMA: JsonDict = {
    "anyOf": [
        {"type": "string", "format": "date", "maxLength": 64},
        {"type": "string", "format": "date-time", "maxLength": 64},
        {"type": "null"},
    ]
}


def _json_integer(value: Any) -> Any:
    # JSON Schema's "integer" is any number with no fraction (3 and 3.0, not true or "3"): stricter than
    # pydantic's lax int, looser than its strict one.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


class PredictShape(BaseModel):
    """The fields of a predict request; the served schema subclasses it with the settings' bounds."""

    model_config = ConfigDict(extra="forbid")
    texts: list[str]
    model: str | None = None


#: The estimators the library offers (audience/groups.py), as the request schema states them.
Adjustment = Literal[ADJUSTMENTS]  # type: ignore[valid-type]
#: Where a group's share positive comes from (audience/summarize.py).
ShareSource = Literal[SHARE_SOURCES]  # type: ignore[valid-type]


class ReviewShape(BaseModel):
    """One review of a summarize request; the served schema subclasses it with the settings' bounds."""

    model_config = ConfigDict(extra="forbid")
    text: str
    group: str | None = None
    time: str | None = None
    id: str | None = None


class SummarizeShape(BaseModel):
    """The fields of a summarize request; the served schema subclasses it with the settings' bounds."""

    model_config = ConfigDict(extra="forbid")
    reviews: Sequence[ReviewShape]
    model: str | None = None
    adjust: Adjustment = Field(
        default=SummarizeConfig().adjust,
        description=(
            "How each group's figures are corrected for label shift: share (its share positive; ratings as "
            "predicted), em (the star distribution too), none (plain means of the model's outputs)."
        ),
    )
    share_from: ShareSource = Field(
        default=SummarizeConfig().share_from,
        description=(
            "Each review's P(positive) that a group's share positive is estimated from: rating (the rating "
            "head's probability of 7-10 stars) or classifier (the model's own P(positive))."
        ),
    )
    examples: Annotated[int, Field(ge=0, le=5), BeforeValidator(_json_integer)] = Field(
        default=3, description="Example sentences per group, aspect and side."
    )


class ExplainShape(BaseModel):
    """The fields of an explain request; the served schema subclasses it with the settings' bounds."""

    model_config = ConfigDict(extra="forbid")
    text: str
    model: str | None = None
    top_k: Annotated[int, Field(ge=1, le=1000), BeforeValidator(_json_integer)] | None = Field(
        default=None, description="Also list this many words with the largest |attribution|."
    )


def request_models(
    settings: ServeSettings, names: Sequence[str]
) -> tuple[type[PredictShape], type[ExplainShape], type[SummarizeShape]]:
    """Subclass the request schemas with the settings' bounds in them (and so in the OpenAPI document)."""
    max_chars = settings.max_chars
    review_text = Annotated[
        StrictStr,
        Field(min_length=1, max_length=max_chars, json_schema_extra={"pattern": _NOT_BLANK}),
        AfterValidator(_check_text),
    ]

    def model_field() -> Any:
        return Field(
            default=None,
            max_length=200,
            description=f"Model to use: one of {', '.join(names)} (default {names[0]}).",
            examples=[names[0]],
        )

    class PredictRequest(PredictShape):
        texts: list[review_text] = Field(
            min_length=1,
            max_length=settings.max_texts,
            description=f"Reviews to classify: 1 to {settings.max_texts}, each at most {max_chars:,} characters.",
            examples=[["A triumph from start to finish.", "Two hours I will never get back."]],
        )
        model: str | None = model_field()

    class ExplainRequest(ExplainShape):
        text: review_text = Field(
            description=f"The review to explain, at most {max_chars:,} characters.",
            examples=["Not bad at all: the cast is superb."],
        )
        model: str | None = model_field()

    class Review(ReviewShape):
        text: review_text = Field(
            description=f"The review, at most {max_chars:,} characters.", examples=["The cast is superb."]
        )
        group: StrictStr | None = Field(
            default=None,
            min_length=1,
            max_length=200,
            description=(
                "What the review is grouped by (a film, a platform). Left out of every review: one group, "
                "'all reviews'; left out of some: those are the group '(none)'."
            ),
            examples=["tt0111161"],
        )
        time: Annotated[StrictStr | None, AfterValidator(_check_time)] = Field(
            default=None,
            max_length=64,
            description="When it was written, ISO 8601: 2024-05-01 or 2024-05-01T20:15:00Z (adds a trend).",
            examples=["2024-05-01"],
            json_schema_extra=_TIME_SCHEMA,
        )
        id: StrictStr | None = Field(
            default=None, max_length=200, description="Names the review in examples (default: its 1-based position)."
        )

    class SummarizeRequest(SummarizeShape):
        reviews: list[Review] = Field(
            min_length=1,
            max_length=settings.max_summary_texts,
            description=f"Reviews to summarise: 1 to {settings.max_summary_texts}, each at most {max_chars:,} characters.",
        )
        model: str | None = model_field()

    return PredictRequest, ExplainRequest, SummarizeRequest


# ---------------------------------------------------------------------------------------------------------
