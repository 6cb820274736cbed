"""Explanations: raw-text offsets, every kind's attributions, the renderings and the ``explain`` verb.

Models are tiny and trained once per module on generated toy reviews (see conftest.py), whose sentiment
words (``POSITIVE_WORDS``, ``NEGATIVE_WORDS``) are the only thing that tells the classes apart.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
import unicodedata

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import NEGATIVE_WORDS, POSITIVE_WORDS, make_toy_reviews
from imdb_sentiment import InputError, ModelError, NotFittedError, available_kinds, get_model_class, load_model
from imdb_sentiment.cli import app
from imdb_sentiment.explain import (
    Explanation,
    TokenAttribution,
    attention_rollout,
    plot_attention,
    to_html,
    to_terminal,
)
from imdb_sentiment.plots import DPI
from imdb_sentiment.text import normalize, normalize_with_offsets, tokenize, word_spans
from pngcheck import assert_png_image

KINDS = available_kinds()
# A review with IMDb's markup, an entity, a curly apostrophe and clear sentiment words.
MARKED_UP = "The film was superb<br /><br />Wonderful cast &amp; story, I don’t regret it!"

# Small, fast settings per kind (as in test_models.py). The transformer trains less than there: its
# tests here check structure, not accuracy, and the machine may be busy.
FAST_CONFIGS: dict[str, dict] = {
    "ngram": {"n_bits": 16},
    "bow-mlp": {
        "max_features": 300,
        "min_df": 1,
        "hidden_units": (8, 8),
        "epochs": 8,
        "batch_size": 16,
        "patience": 3,
        "learning_rate": 0.01,
        "dropout": 0.1,
    },
    "transformer": {"max_length": 48, "stride": 8, "epochs": 2, "batch_size": 8, "learning_rate": 3e-3},
    "ensemble": {"method": "mean"},
}

runner = CliRunner()


def make(kind: str, **changes):
    cls = get_model_class(kind)
    return cls(config=cls.config_class().replace(**{**FAST_CONFIGS[kind], **changes}))


def log_odds(p: float) -> float:
    return math.log(p / (1 - p))


# --------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def ngram_model():
    texts, labels = make_toy_reviews(80, seed=1)
    return make("ngram").fit(texts, labels)


@pytest.fixture(scope="module")
def bow_mlp_model():
    texts, labels = make_toy_reviews(80, seed=1)
    return make("bow-mlp").fit(texts, labels)


@pytest.fixture(scope="module")
def transformer_model(tiny_bert):
    texts, labels = make_toy_reviews(40, seed=1)
    return make("transformer", base_model=str(tiny_bert)).fit(texts, labels)


@pytest.fixture(scope="module")
def ensemble_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain-members")
    members = []
    for i, bits in enumerate((14, 16)):
        texts, labels = make_toy_reviews(60, seed=10 + i)
        members.append(str(make("ngram", n_bits=bits).fit(texts, labels).save(folder / f"ngram-{bits}")))
    texts, labels = make_toy_reviews(20, seed=12)
    return make("ensemble", members=tuple(members)).fit(texts, labels)


_FIXTURE_OF_KIND = {
    "ngram": "ngram_model",
    "bow-mlp": "bow_mlp_model",
    "transformer": "transformer_model",
    "ensemble": "ensemble_model",
}


@pytest.fixture(params=KINDS)
def fitted(request):
    """Each kind's fitted model, built only when a test asks for that kind."""
    return request.getfixturevalue(_FIXTURE_OF_KIND[request.param])


def explain_fast(model, text: str, **options) -> Explanation:
    # Few integrated-gradients steps: these tests check structure, not convergence.
    return model.explain(text, n_steps=4, **options)


def test_every_kind_is_covered():
    assert set(_FIXTURE_OF_KIND) == set(KINDS) == set(FAST_CONFIGS)


# ------------------------------------------------------------------------------- text: offsets and words
TRICKY_TEXTS = [
    pytest.param("Good film.<br /><br />Bad ending.", id="break-tags"),
    pytest.param("a<BR/>b<br>c< br / >d<Br   />e", id="break-tag-spellings"),
    pytest.param("Tom &amp; Jerry&#39;s &#x41;ct &lt;3 &nbsp;x", id="entities"),
    pytest.param("AT&T &foo; &amp and &ampx &#0;", id="not-quite-entities"),
    pytest.param("&amp;amp; &lt;br /&gt;", id="escaped-markup-stays-text"),
    pytest.param("  lots \t of\n\n   space  ", id="whitespace-runs"),
    pytest.param("cafe\u0301 nai\u0308ve Ame\u0301lie", id="combining-accents"),
    pytest.param("e&#769; o\u0301\u0323 x\u0301y \u212b", id="composition-oddities"),
    pytest.param("\u0958 a\u0344b", id="nfc-expands"),
    pytest.param("don’t <br />stop&#8217;s", id="curly-apostrophes"),
    pytest.param("", id="empty"),
    pytest.param("<br /><br />", id="only-tags"),
    pytest.param(" <br/> &nbsp; ", id="only-blank-markup"),
    pytest.param("Wow!!! Really? 10/10", id="punctuation"),
]


# Decomposed Hangul (conjoining jamo, e.g. text from macOS file names): the jamo compose under NFC
# although their combining class is 0.
HANGUL_JAMO = "\u1100\u1161 good"


@pytest.mark.parametrize(
    "text",
    [
        *TRICKY_TEXTS,
        pytest.param(HANGUL_JAMO, id="hangul-jamo"),
    ],
)
def test_normalize_with_offsets_agrees_with_normalize(text):
    normalized, origins = normalize_with_offsets(text)
    assert normalized == normalize(text)
    assert len(origins) == len(normalized)
    previous_start = 0
    for char, (start, end) in zip(normalized, origins, strict=True):
        assert 0 <= start < end <= len(text)
        assert start >= previous_start  # in reading order
        previous_start = start
        source = text[start:end]
        if char == " ":
            assert normalize(source) == ""  # a run of whitespace, a break tag or a blank entity
        else:
            # The character comes from its source span: decoded and composed, it contains the character.
            assert char in unicodedata.normalize("NFC", html.unescape(source))


@pytest.mark.parametrize("text", [*TRICKY_TEXTS, pytest.param(HANGUL_JAMO, id="hangul-jamo")])
def test_word_spans_are_the_tokens_as_written(text):
    words = word_spans(text)
    end_of_previous = 0
    for word, start, end in words:
        assert text[start:end] == word
        assert start >= end_of_previous  # in reading order, never overlapping
        end_of_previous = end
    # Read back through the tokeniser, the words give exactly the text's tokens.
    assert [token for word, _, _ in words for token in tokenize(word)] == tokenize(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great<br />film", ["Great", "film"]),
        ("Tom &amp; Jerry&#39;s film", ["Tom", "Jerry&#39;s", "film"]),
        ("cafe\u0301 au lait", ["cafe\u0301", "au", "lait"]),
        ("Wow!!! Really?", ["Wow", "!", "!", "!", "Really", "?"]),
        ("<br /><br />", []),
        ("&amp;", []),
    ],
)
def test_word_spans_examples(text, expected):
    assert [w for w, _, _ in word_spans(text)] == expected


@pytest.mark.parametrize("apostrophe", ["’", "'", "&#39;", "&#8217;"])
def test_a_contraction_is_one_word(apostrophe):
    word = f"don{apostrophe}t"
    text = f"I {word} know"
    assert word_spans(text) == [("I", 0, 1), (word, 2, 2 + len(word)), ("know", 3 + len(word), 7 + len(word))]


# ------------------------------------------------------------------------------------- every kind
def test_explanation_matches_the_prediction_and_the_words(fitted):
    explanation = explain_fast(fitted, MARKED_UP)
    assert isinstance(explanation, Explanation)
    assert explanation.text == MARKED_UP
    assert [(t.token, t.start, t.end) for t in explanation.tokens] == word_spans(MARKED_UP)
    assert all(isinstance(t.attribution, float) and math.isfinite(t.attribution) for t in explanation.tokens)
    p_positive = fitted.predict_proba([MARKED_UP])[0, 1]
    assert explanation.p_positive == pytest.approx(p_positive, abs=1e-6)
    assert explanation.label == ("positive" if p_positive >= 0.5 else "negative")
    assert explanation.probability == pytest.approx(max(p_positive, 1 - p_positive), abs=1e-6)
    assert explanation.method

    top = explanation.top(3)
    assert len(top) == 3
    assert [abs(t.attribution) for t in top] == sorted((abs(t.attribution) for t in explanation.tokens), reverse=True)[
        :3
    ]
    assert all(t.attribution > 0 for t in explanation.top(50, sign=1))
    assert all(t.attribution < 0 for t in explanation.top(50, sign=-1))


def test_explanation_json_round_trips(fitted):
    explanation = explain_fast(fitted, MARKED_UP)
    data = json.loads(explanation.to_json())
    assert data["text"] == MARKED_UP
    assert data["label"] == explanation.label
    assert data["p_positive"] == pytest.approx(explanation.p_positive)
    assert isinstance(data["details"], dict)
    assert len(data["tokens"]) == len(explanation.tokens)
    for entry, token in zip(data["tokens"], explanation.tokens, strict=True):
        assert set(entry) == {"token", "start", "end", "attribution"}
        assert MARKED_UP[entry["start"] : entry["end"]] == entry["token"] == token.token
        assert entry["attribution"] == pytest.approx(token.attribution)
    assert "attention" not in data  # only on request


def _toy_reviews_with_labels(label: int, count: int = 3) -> list[str]:
    texts, labels = make_toy_reviews(4 * count, seed=5)
    return [t for t, y in zip(texts, labels, strict=True) if y == label][:count]


@pytest.mark.parametrize("kind", ["ngram", "bow-mlp", "ensemble"])
@pytest.mark.parametrize(("label", "words"), [(1, POSITIVE_WORDS), (0, NEGATIVE_WORDS)], ids=["positive", "negative"])
def test_the_strongest_word_is_a_sentiment_word(kind, label, words, request):
    model = request.getfixturevalue(_FIXTURE_OF_KIND[kind])
    for text in _toy_reviews_with_labels(label):
        explanation = model.explain(text)
        assert explanation.label == ("positive" if label else "negative")
        strongest = explanation.top(1)[0]
        assert strongest.token.lower() in words, (text, explanation.top(5))
        assert np.sign(strongest.attribution) == (1 if label else -1)


def test_transformer_attributions_are_finite_and_cover_the_pieces(transformer_model):
    explanation = explain_fast(transformer_model, MARKED_UP)
    details = explanation.details
    assert details["n_steps"] == 4
    assert details["windows"] == 1
    assert details["pieces"] == details["pieces_used"] > len(explanation.tokens)
    # Pieces on no word ("&" of "&amp;", ",") are reported apart, not dropped silently.
    assert math.isfinite(details["convergence_delta"]) and math.isfinite(details["unassigned"])


# ------------------------------------------------------------------------------------- ngram: exact
EXACT_TEXTS = [
    pytest.param(MARKED_UP, id="markup"),
    pytest.param("awful awful boring film, a waste", id="repeats"),
    pytest.param("Tom &amp; Jerry&#39;s WONDERFUL sequel", id="entities"),
    pytest.param("I don’t think it was brilliant", id="curly-apostrophe"),
    pytest.param("café nai\u0308ve masterpiece", id="accents"),
    pytest.param("superb!!! really? 10/10", id="punctuation"),
    pytest.param("<br />", id="no-words"),
    pytest.param("don´t waste your time", id="acute-accent-apostrophe"),
    pytest.param("«wonderful» film", id="guillemets"),
]


@pytest.mark.parametrize("text", EXACT_TEXTS)
def test_ngram_contributions_add_up_to_the_logit(ngram_model, text):
    explanation = ngram_model.explain(text)
    total = sum(t.attribution for t in explanation.tokens)
    details = explanation.details
    assert details["intercept"] == ngram_model.intercept_
    assert details["logit"] == pytest.approx(details["intercept"] + total, abs=1e-9)
    assert details["logit"] == pytest.approx(ngram_model.decision_function([text])[0], abs=1e-6)
    assert explanation.p_positive == pytest.approx(1 / (1 + math.exp(-details["logit"])), abs=1e-6)


def test_ngram_single_word_carries_the_whole_score(ngram_model):
    one = ngram_model.explain("wonderful")
    assert [t.token for t in one.tokens] == ["wonderful"]
    assert one.tokens[0].attribution == pytest.approx(one.details["logit"] - one.details["intercept"])
    assert one.tokens[0].attribution > 0


# --------------------------------------------------------------------------------- bow-mlp: complete
COMPLETE_TEXTS = [
    pytest.param(MARKED_UP, id="markup"),
    pytest.param("awful boring film", id="negative"),
    pytest.param("THE FILM WAS AWFUL, a waste of a cast", id="upper-case"),
    pytest.param("café wonderful", id="precomposed-accent"),
    pytest.param("cafe\u0301 wonderful", id="combining-accent"),
    pytest.param("caf&eacute; wonderful", id="entity-in-a-word"),
]


@pytest.mark.parametrize("text", COMPLETE_TEXTS)
def test_bow_mlp_attributions_are_complete(bow_mlp_model, text):
    """Integrated gradients: the attributions add up to log-odds(review) - log-odds(empty review), up to
    the convergence delta Captum reports, which is small."""
    explanation = bow_mlp_model.explain(text)
    delta = explanation.details["convergence_delta"]
    assert abs(delta) < 0.05
    baseline = log_odds(bow_mlp_model.predict_proba([""])[0, 1])
    total = sum(t.attribution for t in explanation.tokens)
    assert total == pytest.approx(log_odds(explanation.p_positive) - baseline + delta, abs=2e-3)


def test_bow_mlp_honours_n_steps(bow_mlp_model):
    explanation = bow_mlp_model.explain("superb wonderful film", n_steps=7)
    assert explanation.details["n_steps"] == 7
    assert "7 steps" in explanation.method


@pytest.mark.parametrize("n_steps", [0, -3])
def test_bad_n_steps_is_an_input_error(bow_mlp_model, n_steps):
    with pytest.raises(InputError):
        bow_mlp_model.explain("superb film", n_steps=n_steps)


# ----------------------------------------------------------------------------------- ensemble: sum
def test_ensemble_attributions_are_the_weighted_sum_of_its_members(ensemble_model):
    explanation = ensemble_model.explain(MARKED_UP)
    parts = [member.explain(MARKED_UP) for member in ensemble_model.members_]
    expected = sum(
        w * np.array([t.attribution for t in p.tokens]) for w, p in zip(ensemble_model.weights_, parts, strict=True)
    )
    assert np.allclose([t.attribution for t in explanation.tokens], expected, atol=1e-12)
    members = explanation.details["members"]
    assert [m["kind"] for m in members] == ["ngram", "ngram"]
    assert [m["weight"] for m in members] == pytest.approx([0.5, 0.5])
    assert [m["p_positive"] for m in members] == pytest.approx([p.p_positive for p in parts])
    assert explanation.attention is None and explanation.pieces is None


# ----------------------------------------------------------------------------- transformer: attention
@pytest.fixture(scope="module")
def transformer_explanation(transformer_model):
    return transformer_model.explain(MARKED_UP, n_steps=4)


def test_attention_has_one_row_per_piece_and_rows_sum_to_one(transformer_explanation, transformer_model):
    explanation = transformer_explanation
    config = transformer_model.network_.config
    n = len(explanation.pieces)
    assert explanation.attention.shape == (config.num_hidden_layers, config.num_attention_heads, n, n)
    assert explanation.pieces[0] == "[CLS]" and explanation.pieces[-1] == "[SEP]"
    assert np.allclose(explanation.attention.sum(axis=-1), 1.0, atol=1e-5)
    assert (explanation.attention >= 0).all()
    rollout = attention_rollout(explanation.attention)
    assert rollout.shape == (n, n)
    assert np.allclose(rollout.sum(axis=-1), 1.0, atol=1e-6)
    assert (rollout >= 0).all()


def test_attention_rollout_of_uniform_attention_is_uniform():
    n = 4
    uniform = np.full((3, 2, n, n), 1 / n)
    # Each layer mixes (uniform + identity) / 2; rolled out, rows still sum to one and stay symmetric.
    rollout = attention_rollout(uniform)
    assert np.allclose(rollout.sum(axis=-1), 1.0)
    assert np.allclose(rollout, rollout.T)
    assert np.allclose(attention_rollout(np.zeros((0, 2, n, n))), np.eye(n))


def test_attention_is_optional_and_in_json_only_on_request(transformer_model, transformer_explanation):
    without = explain_fast(transformer_model, MARKED_UP, attention=False)
    assert without.attention is None and without.pieces is None
    data = json.loads(transformer_explanation.to_json(attention=True))
    assert np.asarray(data["attention"]).shape == transformer_explanation.attention.shape
    assert data["pieces"] == list(transformer_explanation.pieces)
    assert "attention" not in json.loads(transformer_explanation.to_json())


@pytest.mark.parametrize(("layer", "head"), [(None, None), (1, None), (0, 1)], ids=["rollout", "layer", "head"])
def test_plot_attention_writes_a_png(transformer_explanation, tmp_path, layer, head):
    path = plot_attention(transformer_explanation, tmp_path / "attention.png", layer=layer, head=head)
    assert path == tmp_path / "attention.png"
    # The figure grows with the number of word pieces: 4 + 0.18 inches per piece, square.
    side = round((4 + 0.18 * len(transformer_explanation.pieces)) * DPI)
    assert_png_image(path, size=(side, side))


@pytest.mark.parametrize(("layer", "head"), [(2, None), (-3, None), (0, 2), (0, -1)])
def test_plot_attention_rejects_a_bad_layer_or_head(transformer_explanation, tmp_path, layer, head):
    with pytest.raises(InputError, match=r"layer|head"):
        plot_attention(transformer_explanation, tmp_path / "attention.png", layer=layer, head=head)
    assert not (tmp_path / "attention.png").exists()


def test_plot_attention_needs_attention(ngram_model, tmp_path):
    with pytest.raises(InputError, match="no attention"):
        plot_attention(ngram_model.explain("superb film"), tmp_path / "attention.png")


def test_onnx_only_copy_explains_by_occlusion(transformer_model, tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    exported = load_model(transformer_model.export_onnx(tmp_path / "onnx"))
    assert exported.backend_ == "onnx"
    # no PyTorch weights kept: integrated gradients cannot run, occlusion on ONNX Runtime can
    explanation = exported.explain("a superb film")
    assert explanation.method.startswith("word occlusion")
    assert [t.token for t in explanation.tokens] == ["a", "superb", "film"]
    with pytest.raises(ModelError, match="PyTorch weights"):
        exported._torch_network("explanations")


# -------------------------------------------------------------------------------------- renderings
HOSTILE = "wonderful <script>alert(1)</script> film \"onmouseover=alert(2) x='y' & more"


def without_highlights(page: str) -> str:
    """The HTML with the highlighting spans removed ("script" is a word, so it may be highlighted)."""
    return re.sub(r"</?span[^>]*>", "", page)


def test_to_html_escapes_the_review(ngram_model):
    page = to_html(ngram_model.explain(HOSTILE), title="<img src=x onerror=alert(3)>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in without_highlights(page)
    assert '"onmouseover' not in page
    assert "&quot;onmouseover=alert(2)" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(3)&gt;" in page
    # The positive word is highlighted green, with its attribution as a tooltip.
    assert 'style="background: rgba(22, 163, 74' in page
    assert ">wonderful</span>" in page


def test_to_html_keeps_the_text_of_every_word(ngram_model):
    explanation = ngram_model.explain(MARKED_UP)
    page = to_html(explanation)
    for token in explanation.tokens:
        assert html.escape(token.token) in page


def _render(markup: str) -> str:
    from rich.console import Console

    console = Console(record=True, width=400, file=io.StringIO())
    console.print(markup, highlight=False, soft_wrap=True)
    return console.export_text()


def _explanation(text: str, weights: dict[str, float]) -> Explanation:
    tokens = tuple(TokenAttribution(w, s, e, weights.get(w, 0.0)) for w, s, e in word_spans(text))
    return Explanation(text=text, label="positive", probability=0.9, p_positive=0.9, method="test", tokens=tokens)


def test_to_terminal_lists_the_strongest_words_either_way():
    text = "superb film, boring plot"
    rendered = _render(to_terminal(_explanation(text, {"superb": 2.0, "boring": -1.0, "plot": -0.5}), top_k=1))
    assert text in rendered
    assert "towards positive: superb (+2.000)" in rendered
    assert "towards negative: boring (-1.000)" in rendered


@pytest.mark.parametrize("text", ["superb [bold]x[/] film", "awful [/bold] film", "awful [red] film"])
def test_to_terminal_shows_markup_like_text_literally(text):
    rendered = _render(to_terminal(_explanation(text, {"superb": 1.0, "awful": -1.0})))
    assert text in rendered


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_explain_rejects_an_empty_review(fitted, text):
    with pytest.raises(InputError, match="empty"):
        fitted.explain(text)


@pytest.mark.parametrize("text", [None, 42, ["a superb film"], b"a superb film"])
def test_explain_rejects_a_non_string(ngram_model, text):
    with pytest.raises(InputError, match="string"):
        ngram_model.explain(text)


@pytest.mark.parametrize("kind", KINDS)
def test_explain_on_an_unfitted_model(kind):
    with pytest.raises(NotFittedError):
        get_model_class(kind)().explain("a superb film")


@pytest.mark.parametrize("text", ["<br /><br />", "&nbsp;", "..."])
def test_a_review_without_words_explains_as_no_tokens(ngram_model, text):
    explanation = ngram_model.explain(text)
    assert explanation.tokens == ()
    assert explanation.details["logit"] == ngram_model.intercept_


# ---------------------------------------------------------------------------------------------- CLI
def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str, code: int | None = None) -> None:
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output


@pytest.fixture(scope="module")
def ngram_dir(ngram_model, tmp_path_factory):
    return ngram_model.save(tmp_path_factory.mktemp("explain-cli") / "ngram")


def test_cli_explain_json(ngram_dir, ngram_model):
    result = run("explain", ngram_dir, HOSTILE, "--json")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1
    data = json.loads(result.stdout)
    assert data["text"] == HOSTILE
    assert [(t["token"], t["start"], t["end"]) for t in data["tokens"]] == [tuple(w) for w in word_spans(HOSTILE)]
    assert data["p_positive"] == pytest.approx(ngram_model.predict_proba([HOSTILE])[0, 1])
    assert data["label"] == "positive"
    assert isinstance(data["aspects"], list)  # what it says about each aspect it names (none here, or some)


def test_cli_explain_says_what_the_review_says_about_each_aspect(ngram_dir, ngram_model):
    text = "The acting is superb. The plot is a dull mess."
    data = json.loads(run("explain", ngram_dir, text, "--json").stdout)
    assert [(a["aspect"], a["clause"]) for a in data["aspects"]] == [
        ("acting", "The acting is superb."),
        ("story", "The plot is a dull mess."),
    ]
    # A model without a rating head reads each clause itself.
    clauses = ngram_model.predict_proba(["The acting is superb.", "The plot is a dull mess."])[:, 1]
    assert [a["p_positive"] for a in data["aspects"]] == pytest.approx(clauses, abs=1e-4)
    terminal = run("explain", ngram_dir, text)
    assert terminal.exit_code == 0 and "aspects:" in terminal.stdout
    assert "acting      + " in terminal.stdout or "acting      - " in terminal.stdout


def test_cli_explain_input_file_is_the_same_as_text(ngram_dir, tmp_path):
    review = tmp_path / "review.txt"
    review.write_text(MARKED_UP, encoding="utf-8")
    from_file = run("explain", ngram_dir, "--input", review, "--json")
    from_text = run("explain", ngram_dir, MARKED_UP, "--json")
    assert from_file.exit_code == from_text.exit_code == 0, from_file.output
    assert json.loads(from_file.stdout) == json.loads(from_text.stdout)


def test_cli_explain_html_and_terminal_view(ngram_dir, tmp_path):
    page = tmp_path / "out" / "explanation.html"
    page.parent.mkdir()
    result = run("explain", ngram_dir, HOSTILE, "--html", page, "--top-k", "2")
    assert result.exit_code == 0, result.output
    written = page.read_text(encoding="utf-8")
    assert written.startswith("<!doctype html>")
    assert "<script" not in written.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in without_highlights(written)
    assert "positive" in result.stdout and "towards positive: wonderful" in result.stdout
    assert [p.name for p in page.parent.iterdir()] == ["explanation.html"]  # no temporary file left behind


def test_cli_attention_png_on_an_ngram_model_is_one_error_line(ngram_dir, tmp_path):
    result = run("explain", ngram_dir, "superb film", "--attention-png", tmp_path / "attention.png")
    assert_one_line_error(result, "attention", code=2)
    assert not (tmp_path / "attention.png").exists()


def test_cli_attention_png_for_a_transformer(transformer_model, tmp_path):
    folder = transformer_model.save(tmp_path / "transformer")
    png = tmp_path / "attention.png"
    result = run(
        "explain", folder, "superb film", "--attention-png", png, "--layer", "0", "--head", "1", "--steps", "2"
    )
    assert result.exit_code == 0, result.output
    assert_png_image(png)
    result = run("explain", folder, "superb film", "--attention-png", png, "--layer", "5", "--steps", "2")
    assert_one_line_error(result, "layer", code=2)


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["{model}", ""], ["empty"]),
        (["{model}", "  \n "], ["empty"]),
        (["{model}"], ["TEXT", "--input"]),
        (["{model}", "superb", "--input", "{tmp}/review.txt"], ["one of them"]),
        (["{model}", "--input", "{tmp}/missing.txt"], ["cannot read"]),
        (["{model}", "superb", "--top-k", "0"], ["--top-k"]),
    ],
)
def test_cli_explain_bad_input_exits_2_with_one_line(ngram_dir, tmp_path, args, fragments):
    (tmp_path / "review.txt").write_text("superb film", encoding="utf-8")
    args = [a.format(model=ngram_dir, tmp=tmp_path) for a in args]
    assert_one_line_error(run("explain", *args), *fragments, code=2)


def test_cli_explain_on_a_missing_model_exits_1(tmp_path):
    assert_one_line_error(run("explain", tmp_path / "nowhere", "superb film"), "not a model directory", code=1)


def test_cli_explain_bad_steps_is_one_line(bow_mlp_model, tmp_path):
    folder = bow_mlp_model.save(tmp_path / "bow-mlp")
    assert_one_line_error(run("explain", folder, "superb film", "--steps", "0"), "steps", code=2)


def test_cli_explain_review_with_markup_like_text(ngram_dir):
    result = run("explain", ngram_dir, "awful [/bold] film")
    assert result.exit_code == 0, result.output
    assert "awful [/bold] film" in result.stdout


@pytest.mark.parametrize("name", ["x[/bold]y", "[red]x"])
def test_cli_error_naming_a_markup_like_path_is_one_literal_line(tmp_path, name):
    missing = tmp_path / name
    assert_one_line_error(run("explain", missing, "superb film"), str(missing), code=1)
