"""Sentences and aspects: splitting, every aspect found and every exclusion honoured, spans that map back.

Every text here is written for the test; none is an IMDb review.
"""

from __future__ import annotations

import itertools
import re
import time

import pandas as pd
import pytest

from imdb_sentiment.audience import aspects
from imdb_sentiment.audience.aspects import ASPECT_LABELS, ASPECTS, find_aspects, split_sentences
from imdb_sentiment.errors import InputError


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def found(text: str) -> set[str]:
    """The aspects found anywhere in ``text``."""
    return set(find_aspects([text])["aspect"].astype(str))


# --- Sentences ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Great film.<br /><br />Loved it", ["Great film.", "Loved it"]),
        ("No full stop here<br />Next line<BR/>Third<br>Fourth", ["No full stop here", "Next line", "Third", "Fourth"]),
        ("Line one\nLine two\r\n\r\nLine three", ["Line one", "Line two", "Line three"]),
        (
            "Mr. Smith and Dr. Jones met Mrs. Brown. Then they left.",
            ["Mr. Smith and Dr. Jones met Mrs. Brown.", "Then they left."],
        ),
        ("It was... okay. Then it ended.", ["It was... okay.", "Then it ended."]),
        ("Wow... The end.", ["Wow...", "The end."]),
        ("Wait\u2026 what? Yes\u2026 Really.", ["Wait\u2026 what?", "Yes\u2026", "Really."]),
        ("Wait\x85 What. Then\x85and more.", ["Wait\x85", "What.", "Then\x85and more."]),
        ("What?! No way!!! Really?", ["What?!", "No way!!!", "Really?"]),
        ('He yelled "Stop!" and ran. Then silence.', ['He yelled "Stop!" and ran.', "Then silence."]),
        ('"It is great." She said so.', ['"It is great."', "She said so."]),
        ("(A fine film.) Next one.", ["(A fine film.)", "Next one."]),
        ("I rate it 7.5/10. Good.", ["I rate it 7.5/10.", "Good."]),
        ("J. R. R. Tolkien wrote it. We read it.", ["J. R. R. Tolkien wrote it.", "We read it."]),
        ("Guns, cars, etc. and more. Cars, etc. The end.", ["Guns, cars, etc. and more.", "Cars, etc.", "The end."]),
        ("It was made in the U.S. by a studio.", ["It was made in the U.S. by a studio."]),
        ("It went on too long.The next one was better.", ["It went on too long.", "The next one was better."]),
        ("Seen on a U.S.Army base, e.g. twice.", ["Seen on a U.S.Army base, e.g. twice."]),
        ("1. The plot. 2. The acting.", ["1. The plot.", "2. The acting."]),
        ("the acting was bad. the plot was worse.", ["the acting was bad.", "the plot was worse."]),
        ("Café was naïve. Ça va! Größe zählt.", ["Café was naïve.", "Ça va!", "Größe zählt."]),
        ("Fin.<br /><br />...<br /><br />!!!", ["Fin."]),
    ],
)
def test_split_sentences(text, expected):
    assert sentences(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n", "<br /><br />", "...", " !? "])
def test_nothing_to_split_gives_no_sentences(text):
    assert split_sentences(text) == []


def test_sentence_spans_are_ordered_trimmed_and_inside_the_text():
    text = '  First one.  <br /><br />  Second one?!   Third... and "fourth."\nFifth  '
    spans = split_sentences(text)
    assert len(spans) == 4
    assert all(0 <= start < end <= len(text) for start, end in spans)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))
    assert all(text[start:end] == text[start:end].strip() for start, end in spans)
    assert not any("<br" in text[start:end] for start, end in spans)


# --- Aspects: one positive and the exclusions of each ------------------------------------------------

POSITIVE = {
    "acting": ["The acting was wooden.", "Her performance is superb.", "A wonderful cast.", "He can't act.", "Everyone was terribly wooden.",
               "The lead actress shines.", "A fine character actor steals it.", "Badly acted throughout."],
    "story": ["The plot is thin.", "A clever script.", "The writing is sharp.", "Stilted dialogue.",
              "The storyline drags its feet.", "Poorly written nonsense.", "The third act collapses."],
    "direction": ["The direction is assured.", "The director knows his craft.", "Stylishly directed.",
                  "He helmed it with care."],
    "characters": ["The characters are flat.", "A likeable protagonist.", "The villain is scary.",
                   "A colourful cast of characters.", "Strong character development.", "A fine character study."],
    "music": ["The score is haunting.", "Great soundtrack.", "The songs are catchy.", "The sound was muddy.",
              "The sound effects are loud.", "The musical score soars."],
    "visuals": ["Gorgeous cinematography.", "Great special effects.", "The CGI looks cheap.", "The sets are lavish.",
                "Beautifully shot.", "The director of photography deserves praise.", "Superb art direction."],
    "pacing": ["The pacing is off.", "It is far too long.", "A slow film.", "It drags on and on.",
               "A fast-paced thriller.", "The running time is bloated."],
    "humour": ["Very funny.", "The jokes land.", "I laughed a lot.", "Sharp humour.", "The comedy works.",
               "Some comic relief."],
    "ending": ["The ending is perfect.", "A rousing finale.", "At the end of the movie it gets silly.",
               "The final scene is stunning.", "The climax disappoints."],
}  # fmt: skip

#: Each exclusion: a sentence where a term means something else, and the aspect it must not give.
EXCLUDED = {
    "acting": ["He was acting like a child.", "It casts a spell.", "She is a role model.",
               "It plays a major role in the war.", "They built a wooden horse."],
    "story": ["I am writing this review late.", "As of this writing, no sequel exists."],
    "direction": ["A step in the right direction.", "They walked in the direction of the sea.",
                  "The director's cut is longer.", "Thanks to the director of photography."],
    "characters": ["A fine character actor steals it.", "A true hero saves the day.",
                   # One character is someone in the story (or an actor's part), not the characterisation.
                   "A good example is a robot character.", "Her character is well played."],
    "music": ["I give it a score of 8.", "My score: 9/10.", "Score 10/10.", "We kept score.", "The sound of rain.",
              "It sounds like fun.", "She works in a music shop.", "Her swan song."],
    "visuals": ["Side effects may occur.", "The effects of the war on families.", "It sets up the premise.",
                "The sound effects are loud."],
    "pacing": ["Shown in slow motion.", "It keeps pace with the book.", "A drag queen sings.",
               "Discussed at great length.", "A feature-length debut.", "Not too long ago I saw it.",
               "My wife dragged me along."],
    "humour": ["I had a funny feeling.", "Funny how life works.", "The plot is laughable.", "This movie is a joke.",
               "Based on a comic book.", "A romantic comedy."],
    "ending": ["In the end, it works.", "At the end of the day, who cares.", "In conclusion, skip it.",
               "We ended up bored.", "A never-ending sequel.", "I came to the conclusion that it fails.",
               # Phrases that say when something happens count only beside a judging word.
               "At the end of the movie he dies.", "In the last scene the killer turns up."],
}  # fmt: skip


@pytest.mark.parametrize(("aspect", "text"), [(a, t) for a, texts in POSITIVE.items() for t in texts])
def test_each_aspect_is_found(aspect, text):
    assert aspect in found(text)


@pytest.mark.parametrize(("aspect", "text"), [(a, t) for a, texts in EXCLUDED.items() for t in texts])
def test_each_exclusion_holds(aspect, text):
    assert aspect not in found(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The weather was nice and we had lunch.", set()),
        ("A fine character actor steals it.", {"acting"}),
        ("Thanks to the director of photography.", {"visuals"}),
        ("The sound effects are loud.", {"music"}),
        ("It sets up the premise.", {"story"}),
        ("The acting, the plot and the music are all great, and the ending is funny.",
         {"acting", "story", "music", "ending", "humour"}),
    ],
)  # fmt: skip
def test_exact_aspects_of_a_sentence(text, expected):
    assert found(text) == expected


def test_matching_ignores_case_and_needs_whole_words():
    assert found("THE ACTING WAS GREAT") == {"acting"}
    assert found("A key factor, reacting fast, in a plotter's den.") == set()
    assert found("Over-acting everywhere.") == {"acting"}


# --- The table ---------------------------------------------------------------------------------------


def test_table_rows_spans_and_terms_map_back_to_the_text():
    texts = [
        "No aspects here.",
        "Mr. Smith's acting is great.<br /><br />The plot and the plot twists are silly. The score soars!",
        "",
    ]
    table = find_aspects(texts)
    assert list(table.columns) == ["review", "sentence", "start", "end", "aspect", "term", "term_start"]
    assert set(table["review"]) == {1}
    rows = list(table.itertuples(index=False))
    assert [(r.sentence, r.aspect, r.term) for r in rows] == [(0, "acting", "acting"), (1, "story", "plot"),
                                                              (2, "music", "score")]  # fmt: skip
    for row in rows:
        sentence = texts[row.review][row.start : row.end]
        assert (row.start, row.end) == split_sentences(texts[row.review])[row.sentence]
        assert re.search(re.escape(row.term), sentence, re.IGNORECASE)
        assert row.start <= row.term_start < row.end
        assert texts[row.review][row.term_start :].lower().startswith(row.term)


def test_the_term_start_is_the_matched_word_not_an_earlier_substring():
    # "ending" first occurs inside "intending": the clause must be read around the real term.
    text = "I'm not intending to say it is great, but the ending is a mess."
    (row,) = find_aspects([text]).itertuples(index=False)
    assert row.term == "ending" and row.term_start == text.index("the ending") + 4


def test_a_sentence_can_have_several_aspects_but_each_only_once():
    table = find_aspects(["The acting and the actors, the music and the songs."])
    assert list(table["aspect"].astype(str)) == ["acting", "music"]
    assert list(table["term"]) == ["acting", "music"]


def test_table_dtypes_and_the_empty_table():
    empty = find_aspects([])
    assert list(empty.columns) == ["review", "sentence", "start", "end", "aspect", "term", "term_start"]
    assert len(empty) == 0
    for table in (empty, find_aspects(["The plot."])):
        assert [str(table[c].dtype) for c in ("review", "sentence", "start", "end", "term_start")] == ["int64"] * 5
        assert isinstance(table["aspect"].dtype, pd.CategoricalDtype)
        assert list(table["aspect"].cat.categories) == list(ASPECTS)
    assert len(find_aspects(["", "   ", "<br /><br />"])) == 0


def test_accepts_any_sequence_of_strings():
    assert len(find_aspects(("The plot.", "The score."))) == 2
    assert len(find_aspects(pd.Series(["The plot."]))) == 1


@pytest.mark.parametrize("bad", ["The plot is thin.", b"The plot", ["fine", 3]])
def test_bare_strings_and_non_strings_are_rejected(bad):
    with pytest.raises(InputError):
        find_aspects(bad)


def test_non_ascii_text_keeps_offsets_right():
    # "İ" lower-cases to two characters: offsets must still point into the original text.
    text = "İstanbul İİİ. Die Schauspieler? The acting — superb! «The plot» was naïve. 日本語の映画。The score."
    table = find_aspects([text])
    assert list(table["aspect"].astype(str)) == ["acting", "story", "music"]
    for row in table.itertuples(index=False):
        assert row.term in text[row.start : row.end].lower()
        assert text[row.term_start :].lower().startswith(row.term)


def test_a_huge_review_is_handled_quickly():
    text = "The acting is fine but the plot is thin. " * 5_000 + "x" * 200_000 + " The ending."
    started = time.perf_counter()
    table = find_aspects([text])
    assert time.perf_counter() - started < 10
    assert len(table) == 2 * 5_000 + 1
    assert table["sentence"].max() == 5_000


@pytest.mark.parametrize(
    "text", ["!" * 100_000 + "x", "." * 100_000 + "a", "?!" * 50_000 + '"' * 50_000 + "x", " \n" * 50_000 + "x",
             "<br />" * 50_000, "Mr. " * 50_000, "last " + "x" * 100_000],
)  # fmt: skip
def test_pathological_input_takes_linear_time(text):
    started = time.perf_counter()
    split_sentences(text)
    find_aspects([text])
    assert time.perf_counter() - started < 3


def test_the_fast_scan_finds_what_one_plain_alternation_finds():
    """The first-letter trigger is an optimisation: it must give what a plain ordered alternation gives."""
    plain = re.compile(aspects._WORD.format("|".join(f"({p})" for _, p in aspects._RULES)))
    texts = [t for group in (POSITIVE, EXCLUDED) for ts in group.values() for t in ts]
    texts.append(" ".join(texts))
    for text in texts:
        lowered = aspects._lower(text)
        expected = [
            (aspects._RULES[m.lastindex - 1][0], m.start(), m.end())
            for m in plain.finditer(lowered)
            if m.lastindex and aspects._RULES[m.lastindex - 1][0] != aspects._SKIP
        ]
        assert aspects._terms(text) == expected, text


def test_aspect_keys_and_labels():
    assert ASPECTS == ("acting", "story", "direction", "characters", "music", "visuals", "pacing", "humour", "ending")
    assert list(ASPECT_LABELS) == list(ASPECTS)
    assert all(isinstance(label, str) and label for label in ASPECT_LABELS.values())


@pytest.mark.parametrize(
    ("sentence", "aspects"),
    [
        ("His character goes back to the village.", set()),
        ("The story is about two brothers.", set()),
        ("The characters are well developed.", {"characters"}),
        ("The story is predictable.", {"story"}),
        ("The acting is in French.", {"acting"}),  # a strong term counts without a judgement
        ("Mary, played by Jane Doe, runs away.", set()),
        ("Towards the end of the film she leaves town.", set()),
        ("Towards the end of the film it gets boring.", {"ending"}),
        ("In the last minutes the killer turns up.", set()),
        ("The ending: she leaves town.", {"ending"}),  # "the ending" is strong
    ],
)
def test_plot_telling_uses_of_weak_terms_need_a_judgement_in_the_sentence(sentence, aspects):
    assert set(find_aspects([sentence])["aspect"].astype(str)) == aspects
