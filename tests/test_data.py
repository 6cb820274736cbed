"""Locating, downloading, verifying, parsing, caching and splitting the dataset, on a generated fake."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import json
import os
import random
import shutil
import stat
import subprocess
import tarfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SMALL_COUNTS, fake_film, tar_fake_imdb, write_fake_imdb
from imdb_sentiment import data
from imdb_sentiment.config import SplitConfig
from imdb_sentiment.data import (
    ARCHIVE_NAME,
    cache_dir,
    load_imdb,
    locate,
    read_reviews,
    split_validation,
    stratified_sample,
)
from imdb_sentiment.errors import ConfigError, DataError

COLUMNS = ["id", "split", "label", "rating", "film", "text"]


def cache() -> Path:
    return Path(os.environ["IMDB_SENTIMENT_CACHE"])


def load(source: Path | None = None, **kwargs) -> data.ImdbData:
    return load_imdb(source, progress=False, download=False, **kwargs)


def all_frames(dataset: data.ImdbData) -> dict[str, pd.DataFrame]:
    return {name: getattr(dataset, name) for name in ("train", "validation", "test", "unsup")}


# --- locate and cache_dir -------------------------------------------------------------------------------------


@pytest.fixture
def three_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    """An explicit path, an IMDB_DATA path and a cached archive, all existing."""
    explicit = tmp_path / "explicit.tar.gz"
    env = tmp_path / "env.tar.gz"
    explicit.write_bytes(b"x")
    env.write_bytes(b"y")
    cached = cache() / ARCHIVE_NAME
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(b"z")
    monkeypatch.setenv("IMDB_DATA", str(env))
    monkeypatch.setattr(data, "download_archive", _no_download)
    return explicit, env, cached


def _no_download(dest: Path, **kwargs) -> Path:
    raise AssertionError(f"unexpected download to {dest}")


def test_locate_prefers_explicit_path(three_sources):
    explicit, _, _ = three_sources
    assert locate(explicit) == explicit
    assert locate(str(explicit)) == explicit


def test_locate_uses_imdb_data_before_cache(three_sources):
    _, env, _ = three_sources
    assert locate() == env


def test_locate_uses_cached_archive_when_nothing_else(three_sources, monkeypatch):
    _, _, cached = three_sources
    monkeypatch.delenv("IMDB_DATA")
    assert locate() == cached
    monkeypatch.setenv("IMDB_DATA", "")  # an empty variable counts as unset
    assert locate() == cached


def test_locate_cache_override(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download_archive", _no_download)
    other = tmp_path / "other-cache"
    other.mkdir()
    (other / ARCHIVE_NAME).write_bytes(b"z")
    assert locate(cache=other) == other / ARCHIVE_NAME


def test_locate_downloads_into_cache_as_last_resort(monkeypatch):
    calls = []

    def fake_download(dest: Path, **kwargs) -> Path:
        calls.append(dest)
        return dest

    monkeypatch.setattr(data, "download_archive", fake_download)
    assert locate() == cache() / ARCHIVE_NAME
    assert calls == [cache() / ARCHIVE_NAME]


def test_locate_without_download_names_the_ways_out(monkeypatch):
    monkeypatch.setattr(data, "download_archive", _no_download)
    with pytest.raises(DataError, match="no dataset found") as info:
        locate(download=False)
    message = str(info.value)
    assert "IMDB_DATA" in message and "--data" in message and str(cache()) in message


def test_locate_rejects_missing_explicit_path(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download_archive", _no_download)
    missing = tmp_path / "nowhere" / "aclImdb_v1.tar.gz"
    with pytest.raises(DataError, match="does not exist") as info:
        locate(missing)
    assert str(missing) in str(info.value) and "--data" in str(info.value)


def test_locate_rejects_missing_imdb_data(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "download_archive", _no_download)
    missing = tmp_path / "gone"
    monkeypatch.setenv("IMDB_DATA", str(missing))
    with pytest.raises(DataError, match="IMDB_DATA points to") as info:
        locate()
    assert str(missing) in str(info.value)


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("IMDB_SENTIMENT_CACHE", str(tmp_path / "env-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir(tmp_path / "override") == tmp_path / "override"
    assert cache_dir() == tmp_path / "env-cache"
    monkeypatch.delenv("IMDB_SENTIMENT_CACHE")
    assert cache_dir() == tmp_path / "xdg" / "imdb-sentiment"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "imdb-sentiment"


# --- load_imdb: shape of the result ----------------------------------------------------------------------------


def test_archive_folder_and_parent_give_identical_frames(fake_imdb_archive, fake_imdb_dir):
    from_archive = load(fake_imdb_archive, include_unsup=True)
    from_folder = load(fake_imdb_dir, include_unsup=True)
    from_parent = load(fake_imdb_dir.parent, include_unsup=True)
    for other in (from_folder, from_parent):
        for name, frame in all_frames(from_archive).items():
            pd.testing.assert_frame_equal(frame, all_frames(other)[name], obj=name)
    assert from_archive.source == fake_imdb_archive
    assert from_folder.fingerprint == from_parent.fingerprint != from_archive.fingerprint
    assert len(from_archive.fingerprint) == 64


def test_columns_dtypes_and_sizes(fake_imdb_archive):
    dataset = load(fake_imdb_archive, include_unsup=True)
    for name, frame in all_frames(dataset).items():
        assert list(frame.columns) == COLUMNS, name
        assert frame["label"].dtype == "Int8", name
        assert pd.api.types.is_integer_dtype(frame["rating"]), name
        for column in ("id", "film", "text"):
            assert pd.api.types.is_string_dtype(frame[column]), (name, column)
        assert frame["film"].notna().all(), name
    assert (len(dataset.train), len(dataset.validation), len(dataset.test), len(dataset.unsup)) == (72, 8, 40, 10)
    assert set(dataset.train["split"]) == set(dataset.validation["split"]) == {"train"}
    assert set(dataset.test["split"]) == {"test"}
    assert set(dataset.unsup["split"]) == {"unsup"}
    assert dataset.test["label"].value_counts().to_dict() == {0: 20, 1: 20}
    assert dataset.unsup["label"].isna().all()
    assert (dataset.unsup["rating"] == 0).all()
    labelled = pd.concat([dataset.train, dataset.validation, dataset.test])
    assert labelled["label"].notna().all()
    assert labelled.loc[labelled["label"] == 1, "rating"].between(7, 10).all()
    assert labelled.loc[labelled["label"] == 0, "rating"].between(1, 4).all()
    everything = pd.concat([labelled, dataset.unsup])
    assert everything["id"].is_unique
    assert everything["id"].str.fullmatch(r"(train|test)/(pos|neg|unsup)/\d+").all()


def test_text_is_kept_raw(fake_imdb_archive, fake_imdb_dir):
    dataset = load(fake_imdb_archive, include_unsup=True)
    everything = pd.concat(all_frames(dataset).values()).set_index("id")
    for path in (fake_imdb_dir / "test" / "neg").glob("*.txt"):
        number, rating = path.stem.split("_")
        row = everything.loc[f"test/neg/{number}"]
        assert row["text"] == path.read_text(encoding="utf-8")
        assert row["rating"] == int(rating)
    texts = everything["text"]
    assert texts.str.contains("<br /><br />", regex=False).any()
    assert texts.str.contains("&amp;", regex=False).any()
    assert texts.str.contains("café", regex=False).any()


def test_unsup_only_when_asked(fake_imdb_archive):
    dataset = load(fake_imdb_archive)
    assert dataset.unsup.empty and list(dataset.unsup.columns) == COLUMNS
    assert "unsup" not in set(dataset.train["split"]) | set(dataset.test["split"])
    assert load(fake_imdb_archive, include_unsup=True).unsup.shape == (10, 6)


def test_reviews_are_sorted_whatever_the_member_order(fake_imdb_dir, tmp_path):
    members = sorted(p for p in fake_imdb_dir.rglob("*") if p.is_file())
    shuffled = tmp_path / "shuffled.tar.gz"
    random.Random(3).shuffle(members)
    with tarfile.open(shuffled, "w:gz") as archive:
        for path in members:
            archive.add(path, arcname=f"aclImdb/{path.relative_to(fake_imdb_dir).as_posix()}")
    table = read_reviews(shuffled, progress=False)
    assert table.equals(read_reviews(fake_imdb_dir, progress=False))
    ids = table.column("id").to_pylist()
    # split, folder, then number as a number (so 10 comes after 9)
    assert ids[:12] == [f"test/neg/{i}" for i in range(12)]
    assert ids[-1] == "train/unsup/9"


def test_folder_keeps_crlf_like_the_archive_made_from_it(fake_imdb_dir, tmp_path):
    review = next((fake_imdb_dir / "train" / "pos").glob("3_*.txt"))
    review.write_bytes(b"First line.\r\nSecond line, superb.\r\n")
    archive = tar_fake_imdb(fake_imdb_dir, tmp_path / "crlf.tar.gz")
    from_folder = read_reviews(fake_imdb_dir, progress=False)
    from_archive = read_reviews(archive, progress=False)
    texts = dict(zip(from_folder.column("id").to_pylist(), from_folder.column("text").to_pylist(), strict=True))
    assert texts["train/pos/3"] == "First line.\r\nSecond line, superb.\r\n"
    assert from_folder.equals(from_archive)


# --- films: line i of urls_{folder}.txt is the film of review i ------------------------------------------------


def _pack(folder: Path, tmp_path: Path, packed: bool) -> Path:
    return tar_fake_imdb(folder, tmp_path / "packed" / ARCHIVE_NAME) if packed else folder


def _everything(dataset: data.ImdbData) -> pd.DataFrame:
    return pd.concat(all_frames(dataset).values()).set_index("id")


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_each_review_has_the_film_on_its_line_of_the_urls_file(fake_imdb_dir, tmp_path, packed):
    films = _everything(load(_pack(fake_imdb_dir, tmp_path, packed), include_unsup=True))["film"]
    # Review numbers, not file names: "10_*.txt" sorts before "2_*.txt" as a string.
    assert films["train/pos/2"] == "tt1000001" and films["train/pos/10"] == "tt1000005"
    assert films["test/neg/19"] == "tt2000009" and films["train/unsup/9"] == "tt1000004"
    for (split, folder), n in SMALL_COUNTS.items():
        lines = (fake_imdb_dir / split / f"urls_{folder}.txt").read_text().splitlines()
        assert len(lines) == n
        for number, line in enumerate(lines):
            assert films[f"{split}/{folder}/{number}"] == fake_film(split, number) in line


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_a_line_without_a_title_id_gives_a_null_film(fake_imdb_dir, tmp_path, packed):
    urls = fake_imdb_dir / "test" / "urls_neg.txt"
    lines = urls.read_text().splitlines()
    lines[3] = "http://www.imdb.com/name/nm0000001/"
    lines[12] = ""
    lines[13] = "http://www.imdb.com/title/tt2000099"  # no slash after the id
    urls.write_text("\n".join(lines) + "\n")
    films = _everything(load(_pack(fake_imdb_dir, tmp_path, packed)))["film"]
    assert set(films.index[films.isna()]) == {"test/neg/3", "test/neg/12", "test/neg/13"}
    assert films["test/neg/4"] == fake_film("test", 4) and films["test/pos/3"] == fake_film("test", 3)


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_a_missing_urls_file_leaves_the_film_null_with_a_warning(fake_imdb_dir, tmp_path, packed):
    (fake_imdb_dir / "train" / "urls_unsup.txt").unlink()
    (fake_imdb_dir / "test" / "urls_pos.txt").unlink()
    source = _pack(fake_imdb_dir, tmp_path, packed)
    with pytest.warns(data.MissingFilmsWarning, match="train/urls_unsup.txt") as caught:
        dataset = load(source, include_unsup=True)
    (message,) = [str(w.message) for w in caught if w.category is data.MissingFilmsWarning]  # one warning for all
    assert str(source) in message and "test/urls_pos.txt" in message and "urls_neg" not in message
    films = _everything(dataset)["film"]
    assert dataset.unsup["film"].isna().all() and len(dataset.unsup) == 10
    assert films.isna().sum() == 10 + 20
    assert films[films.index.str.startswith("test/pos/")].isna().all()
    assert films[~films.index.str.startswith(("test/pos/", "train/unsup/"))].notna().all()


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
@pytest.mark.parametrize("change", [-1, 1], ids=["a-line-short", "a-line-over"])
def test_a_urls_file_with_the_wrong_number_of_lines_is_a_data_error(fake_imdb_dir, tmp_path, packed, change):
    urls = fake_imdb_dir / "train" / "urls_pos.txt"
    lines = urls.read_text().splitlines()
    lines = lines[:-1] if change < 0 else [*lines, lines[-1]]
    urls.write_text("\n".join(lines) + "\n")
    source = _pack(fake_imdb_dir, tmp_path, packed)
    with pytest.raises(DataError, match=f"has {40 + change} lines but train/pos has 40 reviews") as info:
        load(source)
    message = str(info.value)
    assert "\n" not in message
    assert (str(urls) if not packed else f"aclImdb/train/urls_pos.txt in {source}") in message
    assert_no_parquet()


def test_a_review_numbered_past_the_urls_lines_is_a_data_error(fake_imdb_dir):
    review = next((fake_imdb_dir / "train" / "neg").glob("39_*.txt"))
    review.rename(review.with_name(review.name.replace("39_", "45_")))
    with pytest.raises(DataError, match="has a line for reviews 0 to 39 but train/neg has review 45"):
        load(fake_imdb_dir)
    assert_no_parquet()


def test_a_changed_urls_file_is_parsed_afresh(fake_imdb_dir, monkeypatch):
    calls = _count_parses(monkeypatch)
    first = load(fake_imdb_dir)
    urls = fake_imdb_dir / "test" / "urls_pos.txt"
    urls.write_text(urls.read_text().replace(f"/{fake_film('test', 0)}/", "/tt0453418/"))
    second = load(fake_imdb_dir)
    assert first.fingerprint != second.fingerprint and len(calls) == 2
    films = second.test.set_index("id")["film"]
    assert films["test/pos/0"] == films["test/pos/1"] == "tt0453418" != films["test/neg/0"]


def test_a_cache_written_before_the_film_column_is_not_reused(fake_imdb_archive):

    fp = data.fingerprint(fake_imdb_archive)
    old = cache() / f"reviews-v1-{fp[:20]}.parquet"  # what the code before the film column wrote
    old.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(read_reviews(fake_imdb_archive, progress=False).drop_columns(["film"]), old)
    dataset = load(fake_imdb_archive)
    assert list(dataset.test.columns) == COLUMNS and dataset.test["film"].notna().all()
    assert data.cache_file(fp).name.startswith(f"reviews-v{data._CACHE_FORMAT}-") and data._CACHE_FORMAT > 1


# --- exports ----------------------------------------------------------------------------------------------------


def test_an_export_of_some_splits_loads_them_and_leaves_the_rest_empty(fake_imdb_archive, tmp_path):
    full = load(fake_imdb_archive)
    target = tmp_path / "train.parquet"
    assert data.export_reviews(target, ("train",), data=fake_imdb_archive, download=False) == 80
    exported = load(target)
    assert exported.source == target and exported.fingerprint == data.fingerprint(target)
    # The same reviews, the same validation carved from them; no test reviews, with the same columns.
    for name in ("train", "validation"):
        pd.testing.assert_frame_equal(getattr(exported, name), getattr(full, name))
    assert exported.test.empty and list(exported.test.columns) == COLUMNS
    pd.testing.assert_frame_equal(exported.reviews("train"), full.train)
    with pytest.raises(DataError, match="holds no test reviews"):
        exported.reviews("test")
    # Read as it is: no parsed copy is written into the cache for it.
    assert not list(cache().glob(f"reviews-*-{exported.fingerprint[:20]}.parquet"))


def test_an_export_of_every_split_loads_like_the_archive(fake_imdb_archive, tmp_path):
    target = tmp_path / "all.parquet"
    assert data.export_reviews(target, ("train", "test", "unsup"), data=fake_imdb_archive, download=False) == 130
    full, exported = load(fake_imdb_archive, include_unsup=True), load(target, include_unsup=True)
    for name, frame in all_frames(full).items():
        pd.testing.assert_frame_equal(all_frames(exported)[name], frame)


def test_an_export_without_train_reviews_or_columns_is_a_data_error(fake_imdb_archive, tmp_path):
    test_only = tmp_path / "test.parquet"
    data.export_reviews(test_only, ("test",), data=fake_imdb_archive, download=False)
    with pytest.raises(DataError, match="no train reviews"):
        load(test_only)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"text": ["a fine film"]}), other)
    with pytest.raises(DataError, match="lacks the column"):
        load(other)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load(broken)


@pytest.mark.parametrize(
    ("splits", "name", "message"),
    [((), "a.parquet", "got none"), (("train", "dev"), "a.parquet", "got dev"), (("train",), "a.csv", ".parquet")],
)
def test_export_refuses_unknown_splits_and_other_files(fake_imdb_archive, tmp_path, splits, name, message):
    with pytest.raises(ConfigError, match=message):
        data.export_reviews(tmp_path / name, splits, data=fake_imdb_archive, download=False)
    assert not (tmp_path / name).exists()


# --- validation split -------------------------------------------------------------------------------------------


def test_validation_is_stratified_disjoint_and_complete(fake_imdb_archive):
    full = load(fake_imdb_archive, split=SplitConfig(validation_fraction=0.0))
    assert full.validation.empty and len(full.train) == 80
    dataset = load(fake_imdb_archive, split=SplitConfig(validation_fraction=0.25, seed=0))
    assert dataset.validation["label"].value_counts().to_dict() == {0: 10, 1: 10}
    assert dataset.train["label"].value_counts().to_dict() == {0: 30, 1: 30}
    train_ids, val_ids = set(dataset.train["id"]), set(dataset.validation["id"])
    assert not train_ids & val_ids
    assert train_ids | val_ids == set(full.train["id"])
    merged = pd.concat([dataset.train, dataset.validation]).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(merged, full.train.sort_values("id").reset_index(drop=True))
    assert dataset.split == SplitConfig(validation_fraction=0.25, seed=0)


def test_validation_depends_on_seed_only(fake_imdb_archive):
    first = load(fake_imdb_archive, split=SplitConfig(seed=1))
    again = load(fake_imdb_archive, split=SplitConfig(seed=1))
    other = load(fake_imdb_archive, split=SplitConfig(seed=2))
    pd.testing.assert_frame_equal(first.validation, again.validation)
    pd.testing.assert_frame_equal(first.train, again.train)
    assert set(first.validation["id"]) != set(other.validation["id"])
    assert len(first.validation) == len(other.validation) == 8


def test_default_split_is_ten_percent_seed_zero(fake_imdb_archive):
    dataset = load(fake_imdb_archive)
    assert dataset.split == SplitConfig(validation_fraction=0.1, seed=0)
    assert dataset.validation["label"].value_counts().to_dict() == {0: 4, 1: 4}


def test_validation_fraction_leaving_fewer_than_two_rows_is_a_config_error(fake_imdb_archive):
    tiny = SplitConfig(validation_fraction=0.01)  # 1% of 80 training reviews is less than one per class
    with pytest.raises(ConfigError, match=r"validation_fraction=0\.01 of 80 training reviews leaves 1 for validation"):
        load(fake_imdb_archive, split=tiny)
    train = pd.DataFrame({"id": [f"r{i}" for i in range(20)], "label": [0, 1] * 10})
    with pytest.raises(ConfigError, match=r"validation_fraction=0\.05 of 20 training reviews leaves 1 for validation"):
        split_validation(train, SplitConfig(validation_fraction=0.05))


# --- bad sources ------------------------------------------------------------------------------------------------


def _random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(0).randbytes(4096))
    return path


def _empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _gzip_not_tar(path: Path) -> Path:
    path.write_bytes(gzip.compress(random.Random(0).randbytes(4096)))
    return path


def assert_no_parquet() -> None:
    assert not list(cache().glob("*.parquet")), "a failed parse must not leave a cache file"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_random_bytes, "is not a gzip archive"),
        (_empty_file, "is not a gzip archive"),
        (_gzip_not_tar, "is damaged or truncated"),
    ],
    ids=["random-bytes", "empty-file", "gzip-not-tar"],
)
def test_not_an_archive(tmp_path, make, message):
    source = make(tmp_path / "aclImdb_v1.tar.gz")
    with pytest.raises(DataError, match=message) as info:
        load(source)
    assert str(source) in str(info.value)
    assert_no_parquet()


@pytest.mark.parametrize("keep", [0.1, 0.3, 0.5, 0.7, 0.9, 0.999])
def test_truncated_archive(fake_imdb_archive, tmp_path, keep):
    # Wherever the download broke off -- inside a member or between two -- the archive is named truncated.
    truncated = tmp_path / "truncated.tar.gz"
    whole = fake_imdb_archive.read_bytes()
    truncated.write_bytes(whole[: int(len(whole) * keep)])
    with pytest.raises(DataError, match=r"is damaged or truncated.*download it again"):
        load(truncated)
    assert_no_parquet()


def test_tar_without_the_dataset(tmp_path):
    folder = tmp_path / "something"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "0_9.txt").write_text("not in a review folder")
    archive = tmp_path / "other.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="something")
    with pytest.raises(DataError, match="not the Large Movie Review Dataset"):
        load(archive)
    with pytest.raises(DataError, match="not the Large Movie Review Dataset"):
        load(folder)
    assert_no_parquet()


def test_folder_review_with_invalid_utf8_names_the_file(fake_imdb_dir):
    review = next((fake_imdb_dir / "test" / "neg").glob("7_*.txt"))
    review.write_bytes(b"Awful film \xff\xfe boring.")
    with pytest.raises(DataError, match="is damaged or unreadable") as info:
        load(fake_imdb_dir)
    assert str(review) in str(info.value)
    assert_no_parquet()


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_missing_test_split(fake_imdb_dir, tmp_path, packed):
    shutil.rmtree(fake_imdb_dir / "test")
    source = tar_fake_imdb(fake_imdb_dir, tmp_path / "a.tar.gz") if packed else fake_imdb_dir
    with pytest.raises(DataError, match="split 'test' is missing") as info:
        load(source)
    assert "train" not in str(info.value).split("copy of the dataset:")[1]
    assert_no_parquet()


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "archive"])
def test_wrong_count(fake_imdb_dir, tmp_path, packed):
    next((fake_imdb_dir / "train" / "pos").glob("*.txt")).unlink()
    source = tar_fake_imdb(fake_imdb_dir, tmp_path / "a.tar.gz") if packed else fake_imdb_dir
    with pytest.raises(DataError, match="train/pos has 39 reviews, expected 40") as info:
        load(source)
    assert "train/neg" not in str(info.value) and "test/" not in str(info.value)
    assert_no_parquet()


def test_counts_are_checked_against_expected_counts(fake_imdb_archive, monkeypatch):
    monkeypatch.setitem(data.EXPECTED_COUNTS, ("test", "neg"), 1_500)
    with pytest.raises(DataError, match="test/neg has 20 reviews, expected 1,500"):
        load(fake_imdb_archive)


# --- the Parquet cache ------------------------------------------------------------------------------------------


def test_second_load_reads_the_cache(fake_imdb_archive, monkeypatch):
    first = load(fake_imdb_archive, include_unsup=True)
    parquets = list(cache().glob("*.parquet"))
    assert len(parquets) == 1 and first.fingerprint[:20] in parquets[0].name

    def no_parse(*args, **kwargs):
        raise AssertionError("the dataset was parsed again")

    monkeypatch.setattr(data, "read_reviews", no_parse)
    second = load(fake_imdb_archive, include_unsup=True)
    assert second.fingerprint == first.fingerprint
    for name, frame in all_frames(first).items():
        pd.testing.assert_frame_equal(frame, all_frames(second)[name], obj=name)


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    original = data.read_reviews

    def counting(source: Path, **kwargs):
        calls.append(source)
        return original(source, **kwargs)

    monkeypatch.setattr(data, "read_reviews", counting)
    return calls


def test_changed_archive_is_parsed_afresh(tmp_path, monkeypatch):
    calls = _count_parses(monkeypatch)
    archive = tmp_path / "aclImdb_v1.tar.gz"
    tar_fake_imdb(write_fake_imdb(tmp_path / "v1", SMALL_COUNTS, seed=1), archive)
    first = load(archive)
    tar_fake_imdb(write_fake_imdb(tmp_path / "v2", SMALL_COUNTS, seed=2), archive)  # same name, new content
    second = load(archive)
    assert first.fingerprint != second.fingerprint
    assert calls == [archive, archive]
    assert set(first.test["text"]) != set(second.test["text"])
    assert set(second.test["text"]) == {
        p.read_text(encoding="utf-8") for p in (tmp_path / "v2" / "aclImdb" / "test").glob("*/*.txt")
    }
    assert len(list(cache().glob("*.parquet"))) == 2


def test_changed_folder_is_parsed_afresh(fake_imdb_dir, monkeypatch):
    calls = _count_parses(monkeypatch)
    first = load(fake_imdb_dir)
    review = next((fake_imdb_dir / "test" / "pos").glob("5_*.txt"))
    review.write_text("A brand new, longer review: wonderful, superb, brilliant.", encoding="utf-8")
    second = load(fake_imdb_dir)
    assert first.fingerprint != second.fingerprint
    assert len(calls) == 2
    texts = second.test.set_index("id")["text"]
    assert texts["test/pos/5"] == "A brand new, longer review: wonderful, superb, brilliant."


# --- download ---------------------------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _CutOffHandler(_QuietHandler):
    """Announces the whole file but sends only its first half, then hangs up."""

    def do_GET(self) -> None:
        content = Path(self.directory, self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content[: len(content) // 2])
        self.close_connection = True


@contextlib.contextmanager
def _serve(folder: Path, handler: type[http.server.SimpleHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 in a background thread; yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def http_archive(fake_imdb_archive: Path) -> Iterator[tuple[str, str]]:
    """Serve the fake archive over HTTP; yields ``(url, sha256)``."""
    with _serve(fake_imdb_archive.parent, _QuietHandler) as base:
        yield f"{base}/{fake_imdb_archive.name}", hashlib.sha256(fake_imdb_archive.read_bytes()).hexdigest()


def test_download_with_good_checksum(http_archive, fake_imdb_archive, tmp_path):
    url, sha = http_archive
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    assert data.download_archive(dest, url=url, sha256=sha, progress=False) == dest
    assert dest.read_bytes() == fake_imdb_archive.read_bytes()
    assert [p.name for p in dest.parent.iterdir()] == [ARCHIVE_NAME]


def test_download_with_wrong_checksum_keeps_nothing(http_archive, tmp_path):
    url, sha = http_archive
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    wrong = "0" * 64
    with pytest.raises(DataError, match=f"sha256 is {sha}, expected {wrong}"):
        data.download_archive(dest, url=url, sha256=wrong, progress=False)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_download_with_wrong_checksum_keeps_previous_file(http_archive, tmp_path):
    url, _ = http_archive
    dest = tmp_path / ARCHIVE_NAME
    dest.write_bytes(b"previous")
    with pytest.raises(DataError, match="nothing was kept"):
        data.download_archive(dest, url=url, sha256="0" * 64, progress=False)
    assert dest.read_bytes() == b"previous"
    assert not list(tmp_path.glob("*.part"))


def test_interrupted_download_is_not_kept(fake_imdb_archive, tmp_path):
    sha = hashlib.sha256(fake_imdb_archive.read_bytes()).hexdigest()
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    with _serve(fake_imdb_archive.parent, _CutOffHandler) as base, pytest.raises(DataError):
        data.download_archive(dest, url=f"{base}/{fake_imdb_archive.name}", sha256=sha, progress=False)
    assert list(dest.parent.iterdir()) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/aclImdb_v1.tar.gz", "{server}/missing.tar.gz"])
def test_download_failure(http_archive, tmp_path, url):
    url = url.format(server=http_archive[0].rsplit("/", 1)[0])
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    with pytest.raises(DataError, match="could not download") as info:
        data.download_archive(dest, url=url, sha256="0" * 64, progress=False)
    assert url in str(info.value) and "IMDB_DATA" in str(info.value)
    assert not dest.exists()
    assert not list(dest.parent.glob("*.part"))


def test_download_with_malformed_url_is_a_data_error(tmp_path):
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    with pytest.raises(DataError, match="could not download notaurl") as info:
        data.download_archive(dest, url="notaurl", sha256="0" * 64, progress=False)
    assert "IMDB_DATA" in str(info.value)
    assert list(dest.parent.iterdir()) == []  # no temporary file left behind


def test_downloaded_file_has_normal_permissions(http_archive, tmp_path):
    url, sha = http_archive
    dest = tmp_path / ARCHIVE_NAME
    old = os.umask(0o022)
    try:
        data.download_archive(dest, url=url, sha256=sha, progress=False)
    finally:
        os.umask(old)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644  # not the temporary file's 0600


def test_load_imdb_downloads_into_the_cache(http_archive, monkeypatch, small_counts):
    url, sha = http_archive
    monkeypatch.setattr(
        data, "download_archive", functools.partial(data.download_archive, url=url, sha256=sha, progress=False)
    )
    dataset = load_imdb(progress=False)
    assert dataset.source == cache() / ARCHIVE_NAME and dataset.source.is_file()
    assert len(dataset.train) + len(dataset.validation) == small_counts["train", "pos"] + small_counts["train", "neg"]
    # The cached archive is found next time, without downloading.
    monkeypatch.setattr(data, "download_archive", _no_download)
    assert load_imdb(progress=False).fingerprint == dataset.fingerprint


class _EndlessHandler(_QuietHandler):
    """Sends zeros without a Content-Length, far more than any archive, then hangs up."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        for _ in range(64):
            self.wfile.write(bytes(1 << 16))
        self.close_connection = True


def test_download_larger_than_expected_is_stopped_and_not_kept(http_archive, fake_imdb_archive, tmp_path):
    dest = tmp_path / "downloads" / ARCHIVE_NAME
    with _serve(tmp_path, _EndlessHandler) as base, pytest.raises(DataError, match="sent more than the expected"):
        data.download_archive(dest, url=f"{base}/endless", sha256="0" * 64, max_bytes=100_000, progress=False)
    assert list(dest.parent.iterdir()) == []
    # A server announcing too much is refused before anything is written.
    url, sha = http_archive
    size = fake_imdb_archive.stat().st_size
    with pytest.raises(DataError, match=f"announces {size:,} bytes, more than the expected {size - 1:,}"):
        data.download_archive(dest, url=url, sha256=sha, max_bytes=size - 1, progress=False)
    assert data.download_archive(dest, url=url, sha256=sha, max_bytes=size, progress=False) == dest


# --- archives on disk: the published hash, computed once; leftovers ------------------------------------------


def test_an_archive_that_is_not_the_published_one_is_used_with_a_warning(fake_imdb_archive, monkeypatch):
    with pytest.warns(data.UnpublishedArchiveWarning, match=f"{fake_imdb_archive} is not the published") as caught:
        first = load(fake_imdb_archive)
    sha = hashlib.sha256(fake_imdb_archive.read_bytes()).hexdigest()
    assert f"sha256 {sha}, published {data.PUBLISHED_SHA256}" in str(caught[0].message)
    monkeypatch.setattr(data, "PUBLISHED_SHA256", sha)  # the same file, were it the published one: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", data.UnpublishedArchiveWarning)
        assert load(fake_imdb_archive).fingerprint == first.fingerprint == data.fingerprint(fake_imdb_archive)


def test_a_cached_archive_is_checked_too(fake_imdb_archive, monkeypatch):
    cached = cache() / ARCHIVE_NAME
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(fake_imdb_archive, cached)
    monkeypatch.setattr(data, "download_archive", _no_download)
    with pytest.warns(data.UnpublishedArchiveWarning, match=f"{cached} is not the published"):
        load_imdb(progress=False)


def test_the_archive_hash_is_computed_once_per_file(fake_imdb_archive, monkeypatch):
    monkeypatch.setattr(data, "PUBLISHED_SHA256", hashlib.sha256(fake_imdb_archive.read_bytes()).hexdigest())
    load(fake_imdb_archive)
    stored = json.loads((cache() / data.HASHES_NAME).read_text())
    assert stored[str(fake_imdb_archive.resolve())]["sha256"] == data.PUBLISHED_SHA256
    reads: list[Path] = []
    real_open = Path.open

    def counting_open(self: Path, *args, **kwargs):
        if self == fake_imdb_archive:
            reads.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    load(fake_imdb_archive)
    assert reads == []  # neither hashed nor parsed again
    # Touched (a new modification time): hashed again, and found to be the same file.
    stamp = fake_imdb_archive.stat().st_mtime_ns + 10**9
    os.utime(fake_imdb_archive, ns=(stamp, stamp))
    load(fake_imdb_archive)
    assert reads == [fake_imdb_archive]


def _exited_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_leftover_temporary_files_in_the_cache_are_removed_on_load(fake_imdb_archive):
    folder = cache()
    folder.mkdir(parents=True, exist_ok=True)
    killed = folder / f".{ARCHIVE_NAME}.{_exited_pid()}.k1ll3d.tmp"  # a download whose process is gone
    old = folder / f".reviews-v1-0123.parquet.{os.getpid()}.0ld.tmp"  # nothing written to it for two hours
    live = folder / f".reviews-v1-4567.parquet.{os.getpid()}.l1ve.tmp"  # a write in progress: kept
    for leftover in (killed, old, live):
        leftover.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    load(fake_imdb_archive)
    assert not killed.exists() and not old.exists()
    assert live.exists()


# --- stratified_sample ------------------------------------------------------------------------------------------


@pytest.fixture
def skewed() -> pd.DataFrame:
    return pd.DataFrame({"id": [f"r{i}" for i in range(100)], "label": [1] * 30 + [0] * 70})


def test_stratified_sample_keeps_proportions(skewed):
    sample = stratified_sample(skewed, 20, seed=0)
    assert len(sample) == 20
    assert sample["label"].value_counts().to_dict() == {0: 14, 1: 6}
    assert set(sample["id"]) <= set(skewed["id"]) and sample["id"].is_unique
    assert list(sample.index) == list(range(20))


def test_stratified_sample_is_seeded(skewed):
    first = stratified_sample(skewed, 20, seed=4)
    pd.testing.assert_frame_equal(first, stratified_sample(skewed, 20, seed=4))
    assert set(first["id"]) != set(stratified_sample(skewed, 20, seed=5)["id"])


def test_stratified_sample_other_label_column_and_large_n(skewed):
    frame = skewed.rename(columns={"label": "y"})
    assert stratified_sample(frame, 10, seed=0, label="y")["y"].value_counts().to_dict() == {0: 7, 1: 3}
    assert len(stratified_sample(skewed, 100)) == 100
    assert len(stratified_sample(skewed, 1_000)) == 100
