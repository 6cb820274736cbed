"""Request and response schemas of the HTTP API; the request bounds come from the settings."""

# No `from __future__ import annotations`: the request models are built inside a function (their bounds
# come from the settings), and FastAPI reads their annotations at runtime.

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from pydantic_core import PydanticCustomError

from imdb_sentiment.scoring import text_problem
from imdb_sentiment.settings import ServeSettings

#: Exactly the characters ``str.strip()`` removes, as a JSON-Schema pattern "holds something else", so a
#: schema-driven client (and schemathesis) agrees with the server on what a blank review is.
_NOT_BLANK = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


class Prediction(BaseModel):
    label: Literal["negative", "positive"]
    probability: float = Field(description="Probability of `label`.")
    p_positive: float = Field(description="Probability that the review is positive.")


class PredictResponse(BaseModel):
    model: str = Field(description="Name of the model that answered.")
    predictions: list[Prediction] = Field(description="One per review, in the order given.")


class TokenOut(BaseModel):
    token: str
    start: int = Field(description="Character offset of the word in `text`.")
    end: int
    attribution: float = Field(description="Contribution to the log-odds of positive (negative: towards negative).")


class ExplainResponse(BaseModel):
    text: str
    label: Literal["negative", "positive"]
    probability: float
    p_positive: float
    method: str = Field(description="How the attributions were computed.")
    tokens: list[TokenOut] = Field(description="Every word of the review, in order.")
    details: dict[str, Any] = Field(description="Method-specific figures (intercept, baseline, ...).")
    pieces: list[str] | None = Field(default=None, description="Word pieces (models that read word pieces only).")
    top: list[TokenOut] | None = Field(default=None, description="The `top_k` words by |attribution|, if asked.")


class ModelInfo(BaseModel):
    name: str
    kind: str
    default: bool
    metrics: dict[str, Any] = Field(description="Metrics stored with the model, by split (validation, test).")


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


class ExplainShape(BaseModel):
    """The fields of an explain request; the served schema subclasses it with the settings' bounds."""

    model_config = ConfigDict(extra="forbid")
    text: str
    model: str | None = None
    top_k: Annotated[int, Field(ge=1, le=1000), BeforeValidator(_json_integer)] | None = Field(
        default=None, description="Also list this many words with the largest |attribution|."
    )


def request_models(settings: ServeSettings, names: Sequence[str]) -> tuple[type[PredictShape], type[ExplainShape]]:
    """Subclass the request schemas with the settings' bounds in them (and so in the OpenAPI document)."""
    max_chars = settings.max_chars

    def model_field() -> Any:
        return Field(
            default=None,
            max_length=200,
            description=f"Model to use: one of {', '.join(names)} (default {names[0]}).",
            examples=[names[0]],
        )

    class PredictRequest(PredictShape):
        texts: list[
            Annotated[
                StrictStr,
                Field(min_length=1, max_length=max_chars, json_schema_extra={"pattern": _NOT_BLANK}),
                AfterValidator(_check_text),
            ]
        ] = Field(
            min_length=1,
            max_length=settings.max_texts,
            description=f"Reviews to classify: 1 to {settings.max_texts}, each at most {max_chars:,} characters.",
            examples=[["A triumph from start to finish.", "Two hours I will never get back."]],
        )
        model: str | None = model_field()

    class ExplainRequest(ExplainShape):
        text: Annotated[
            StrictStr,
            Field(min_length=1, max_length=max_chars, json_schema_extra={"pattern": _NOT_BLANK}),
            AfterValidator(_check_text),
        ] = Field(
            description=f"The review to explain, at most {max_chars:,} characters.",
            examples=["Not bad at all: the cast is superb."],
        )
        model: str | None = model_field()

    return PredictRequest, ExplainRequest


# ---------------------------------------------------------------------------------------------------------
