"""Shared fixtures: a tiny, generated stand-in for the Large Movie Review Dataset, and toy reviews.

Nothing here is a real IMDb review. The reviews are generated from small word lists so that the two
classes are trivially learnable (positive reviews use only positive sentiment words, negative ones only
negative words), and they carry IMDb's quirks (``<br />`` tags, HTML entities, non-ASCII text) so the
parsing and normalisation code sees what it sees on the real data.

Every test except those marked ``integration`` runs with :data:`imdb_sentiment.data.EXPECTED_COUNTS`
set to :data:`SMALL_COUNTS`, a private dataset cache and no ``IMDB_DATA``, so no test can read or write
the user's cache or the real dataset by accident.
"""

from __future__ import annotations

import os
import random
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pytest

from imdb_sentiment import data as data_module

POSITIVE_WORDS = ("wonderful", "superb", "brilliant", "loved", "masterpiece")
NEGATIVE_WORDS = ("awful", "boring", "terrible", "waste", "dreadful")
NEUTRAL_WORDS = (
    "the", "film", "movie", "plot", "actor", "actress", "scene", "story", "director", "camera", "it", "was",
    "and", "a", "this", "ending", "music", "characters", "script", "cast", "of", "in", "with", "sequel",
)  # fmt: skip
#: Fragments that make the generated text look like IMDb's: paragraph tags, an entity, non-ASCII.
QUIRKS = ("<br /><br />", "&amp;", "café", "naïve")

#: Reviews per (split, folder) of the fake dataset; 20 + 20 test reviews, 80 labelled training reviews.
SMALL_COUNTS: dict[tuple[str, str], int] = {
    ("train", "pos"): 40,
    ("train", "neg"): 40,
    ("train", "unsup"): 10,
    ("test", "pos"): 20,
    ("test", "neg"): 20,
}
_LABEL_OF_FOLDER = {"pos": 1, "neg": 0, "unsup": None}


def make_review(rng: random.Random, label: int | None) -> str:
    """Generate one review: positive (1), negative (0) or mixed (None), with IMDb-style markup."""
    if label is None:
        sentiment: tuple[str, ...] = POSITIVE_WORDS + NEGATIVE_WORDS
    else:
        sentiment = POSITIVE_WORDS if label == 1 else NEGATIVE_WORDS
    sentences = []
    for _ in range(rng.randint(2, 4)):
        words = [rng.choice(NEUTRAL_WORDS) for _ in range(rng.randint(4, 8))]
        for _ in range(rng.randint(1, 3)):
            words.insert(rng.randrange(len(words) + 1), rng.choice(sentiment))
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words) + 1), rng.choice(QUIRKS[1:]))
        sentence = " ".join(words)
        sentences.append(sentence[0].upper() + sentence[1:] + rng.choice((".", ".", "!", "?")))
    separators = [rng.choice((" ", " ", "<br /><br />")) for _ in sentences[1:]]
    text = sentences[0]
    for separator, sentence in zip(separators, sentences[1:], strict=True):
        text += separator + sentence
    return text


def make_toy_reviews(n: int, *, seed: int = 0) -> tuple[list[str], list[int]]:
    """Return ``n`` generated reviews and their labels (as balanced as ``n`` allows, shuffled)."""
    rng = random.Random(seed)
    labels = [i % 2 for i in range(n)]
    rng.shuffle(labels)
    return [make_review(rng, label) for label in labels], labels


def fake_film(split: str, number: int) -> str:
    """The film of review ``number`` of any folder of ``split`` in the fake dataset: two reviews per film
    and folder (``pos/4`` and ``pos/5`` are about one film, as are ``pos/4`` and ``neg/4``); the train
    and test films are disjoint (in the real dataset, all but one are)."""
    return f"tt{(1_000_000 if split == 'train' else 2_000_000) + number // 2:07d}"


def write_fake_imdb(root: Path, counts: Mapping[tuple[str, str], int], *, seed: int = 0) -> Path:
    """Write a fake ``aclImdb/`` folder under ``root`` with ``counts`` reviews per (split, folder).

    Files are named ``{id}_{rating}.txt`` like the real ones (ratings 7-10 for pos, 1-4 for neg, 0 for
    unsup), beside ``README``, ``imdb.vocab`` and, for each folder, ``{split}/urls_{folder}.txt``: line ``i``
    is the IMDb address of review ``i``'s film, :func:`fake_film` (a file that is not a review).
    Deterministic for a given ``seed``.

    Returns:
        The ``aclImdb`` folder.
    """
    rng = random.Random(seed)
    top = Path(root) / "aclImdb"
    top.mkdir(parents=True, exist_ok=True)
    (top / "README").write_text("A generated stand-in for the Large Movie Review Dataset, for tests.\n")
    vocab = sorted({*POSITIVE_WORDS, *NEGATIVE_WORDS, *NEUTRAL_WORDS})
    (top / "imdb.vocab").write_text("\n".join(vocab) + "\n")
    for (split, folder), n in sorted(counts.items()):
        sub = top / split / folder
        sub.mkdir(parents=True, exist_ok=True)
        label = _LABEL_OF_FOLDER[folder]
        for number in range(n):
            rating = 0 if label is None else rng.randint(7, 10) if label == 1 else rng.randint(1, 4)
            (sub / f"{number}_{rating}.txt").write_text(make_review(rng, label), encoding="utf-8")
        # The real dataset has these beside the review folders; they are not reviews.
        lines = (f"http://www.imdb.com/title/{fake_film(split, number)}/usercomments\n" for number in range(n))
        (top / split / f"urls_{folder}.txt").write_text("".join(lines))
    return top


def tar_fake_imdb(folder: Path, dest: Path) -> Path:
    """Pack an ``aclImdb/`` folder into a ``.tar.gz`` at ``dest`` (members named ``aclImdb/...``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest, "w:gz") as archive:
        archive.add(folder, arcname="aclImdb")
    return dest


@pytest.fixture
def small_counts() -> dict[tuple[str, str], int]:
    """The fake dataset's reviews per (split, folder); also what ``EXPECTED_COUNTS`` is patched to."""
    return dict(SMALL_COUNTS)


@pytest.fixture
def fake_imdb_dir(tmp_path: Path, small_counts: dict[tuple[str, str], int]) -> Path:
    """An extracted fake dataset: the path of its ``aclImdb/`` folder."""
    return write_fake_imdb(tmp_path / "extracted", small_counts)


@pytest.fixture
def fake_imdb_archive(tmp_path: Path, fake_imdb_dir: Path) -> Path:
    """The fake dataset as ``aclImdb_v1.tar.gz`` (same reviews as ``fake_imdb_dir``)."""
    return tar_fake_imdb(fake_imdb_dir, tmp_path / "archive" / "aclImdb_v1.tar.gz")


@pytest.fixture(scope="session")
def toy_reviews_factory() -> Callable[..., tuple[list[str], list[int]]]:
    """``factory(n, seed=0) -> (texts, labels)``: generated, learnable reviews for model tests."""
    return make_toy_reviews


@pytest.fixture
def toy_reviews() -> tuple[list[str], list[int]]:
    """60 generated reviews and their 0/1 labels (30 of each)."""
    return make_toy_reviews(60, seed=0)


@pytest.fixture(autouse=True)
def _fake_dataset_environment(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Expect the fake dataset's counts, use a private cache and ignore ``IMDB_DATA``.

    Not applied to tests marked ``integration``: they read the real archive with the real counts.
    """
    if request.node.get_closest_marker("integration") is not None:
        return
    monkeypatch.setattr(data_module, "EXPECTED_COUNTS", dict(SMALL_COUNTS))
    monkeypatch.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path_factory.mktemp("imdb-cache")))
    monkeypatch.delenv("IMDB_DATA", raising=False)


def write_tiny_bert(folder: Path, *, seed: int = 0) -> Path:
    """Write a randomly initialised 2-layer, 32-wide BERT and its WordPiece tokenizer to ``folder``.

    Its vocabulary is the toy reviews' words plus every letter and digit (alone and as ``##`` suffix),
    so any text tokenises; it stands in for MiniLM in tests (a few hundred KB, trains in seconds).
    """
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    chars = "abcdefghijklmnopqrstuvwxyz0123456789"
    words = sorted({*POSITIVE_WORDS, *NEGATIVE_WORDS, *NEUTRAL_WORDS, "cafe", "naive", "good", "bad"})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *".,!?&;'<>/", *chars, *(f"##{c}" for c in chars), *words]
    ids = {token: i for i, token in enumerate(vocab)}
    backend = Tokenizer(models.WordPiece(ids, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=512,
    )  # fmt: skip
    tokenizer.save_pretrained(folder)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512,
    )  # fmt: skip
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random BERT base model folder (see :func:`write_tiny_bert`), built once per test session."""
    pytest.importorskip("transformers")
    return write_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip a test marked ``integration``, saying why, when ``IMDB_DATA`` does not name the real archive.

    A hook rather than a fixture: it runs before any fixture, including module-scoped ones that load the data.
    """
    if item.get_closest_marker("integration") is None:
        return
    archive = os.environ.get("IMDB_DATA")
    if not archive:
        pytest.skip("IMDB_DATA is not set: point it at aclImdb_v1.tar.gz to run the tests on the real data")
    if not Path(archive).exists():
        pytest.fail(f"IMDB_DATA points at {archive}, which does not exist")


@pytest.fixture(scope="session")
def toy_ngram_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ngram model trained on 120 generated reviews and saved once per test session (read-only)."""
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    texts, labels = make_toy_reviews(120, seed=3)
    return (
        NgramClassifier(config=NgramConfig(n_bits=14)).fit(texts, labels).save(tmp_path_factory.mktemp("toy") / "toy")
    )


#: Words whose presence says how many stars a generated rated review gets (see make_rated_reviews).
INTENSITY = {
    1: "atrocious",
    2: "awful",
    3: "weak",
    4: "mediocre",
    7: "decent",
    8: "good",
    9: "great",
    10: "masterpiece",
}
_RATED_FILLER = ("the", "film", "story", "scene", "cast", "music", "watched", "saw", "friday", "cinema", "again")


def make_rated_reviews(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """``n`` generated reviews whose stars (1-4, 7-10) are told by one word of :data:`INTENSITY`; they
    mention the story, the cast and the music, so aspects are found in them."""
    from imdb_sentiment.models.rating import STARS

    rng = random.Random(seed)
    stars = np.array([rng.choice(STARS) for _ in range(n)])
    texts = [
        " ".join([*rng.sample(_RATED_FILLER, 5), INTENSITY[s], *rng.sample(_RATED_FILLER, 3)]) + "." for s in stars
    ]
    return texts, stars


@pytest.fixture(scope="session")
def rated_toy_dir(tmp_path_factory: pytest.TempPathFactory, toy_ngram_dir: Path) -> Path:
    """:func:`toy_ngram_dir` with a rating head (and clause scorer) fitted on generated rated reviews (read-only)."""
    from imdb_sentiment import load_model
    from imdb_sentiment.models.rating import RatingConfig, RatingHead, attach_rating

    texts, stars = make_rated_reviews(1200)
    model = load_model(toy_ngram_dir)
    p = model.predict_proba(texts)[:, 1]
    head = RatingHead(RatingConfig(n_bits=14)).fit(
        texts, stars, np.where(stars >= 7, 0.8, 0.2), np.arange(1200) % 2 == 0
    )
    head.fit_clauses(texts, p, np.where(stars >= 7, 0.9, 0.1))
    return attach_rating(toy_ngram_dir, head, tmp_path_factory.mktemp("rated") / "rated")
