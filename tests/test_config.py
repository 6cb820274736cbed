"""Configs validate themselves, round-trip through dicts and TOML, and take command-line overrides."""

from __future__ import annotations

import dataclasses
import json

import pytest

from imdb_sentiment.config import SplitConfig
from imdb_sentiment.errors import ConfigError
from imdb_sentiment.models.bow_mlp import BowMlpConfig

BOW_KEYS = (
    "batch_size, dropout, epochs, hidden_units, learning_rate, max_features, min_df, ngram_max, patience, seed, "
    "sublinear_tf"
)


def test_defaults_are_valid():
    bow = BowMlpConfig()
    assert bow.hidden_units == (64, 32) and bow.ngram_max == 2 and bow.sublinear_tf is True
    split = SplitConfig()
    assert (split.validation_fraction, split.seed) == (0.1, 0)


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (BowMlpConfig, "max_features", 0),
        (BowMlpConfig, "ngram_max", 4),
        (BowMlpConfig, "ngram_max", 0),
        (BowMlpConfig, "min_df", 0),
        (BowMlpConfig, "hidden_units", (64,)),
        (BowMlpConfig, "hidden_units", (64, 32, 16)),
        (BowMlpConfig, "hidden_units", (64, 0)),
        (BowMlpConfig, "dropout", 1.0),
        (BowMlpConfig, "dropout", -0.1),
        (BowMlpConfig, "learning_rate", 0.0),
        (BowMlpConfig, "batch_size", 0),
        (BowMlpConfig, "epochs", 0),
        (BowMlpConfig, "patience", -1),
        (SplitConfig, "validation_fraction", 1.0),
        (SplitConfig, "validation_fraction", -0.5),
        (SplitConfig, "seed", -1),
    ],
)
def test_invalid_values_name_the_field(cls, field, value):
    with pytest.raises(ConfigError, match=rf"{cls.__name__}: {field} must"):
        cls(**{field: value})
    with pytest.raises(ConfigError, match=field):  # the same check through from_dict
        cls.from_dict({field: value})


def test_edge_values_are_accepted():
    assert BowMlpConfig(ngram_max=1, min_df=1, dropout=0.0, patience=0, epochs=1).patience == 0
    assert SplitConfig(validation_fraction=0.0).validation_fraction == 0.0


def test_hidden_units_given_as_a_list_is_stored_as_a_tuple():
    config = BowMlpConfig(hidden_units=[1, 2])
    assert type(config.hidden_units) is tuple and config.hidden_units == (1, 2)
    assert config == BowMlpConfig(hidden_units=(1, 2))
    assert hash(config) == hash(BowMlpConfig(hidden_units=(1, 2)))
    assert len({config, BowMlpConfig(hidden_units=(1, 2))}) == 1


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError, match="epochs"):
        BowMlpConfig(epochs=0)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ConfigError) as info:
        BowMlpConfig.from_dict({"epochs": 3, "colour": "blue", "bogus": 1})
    message = str(info.value)
    assert "unknown BowMlpConfig key(s): bogus, colour" in message
    assert f"valid keys are: {BOW_KEYS}" in message


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"epochs": True}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"epochs": "many"}, "epochs"),
        ({"dropout": False}, "dropout"),
        ({"sublinear_tf": "perhaps"}, "sublinear_tf"),
        ({"hidden_units": "64,x"}, "hidden_units"),
        ({"seed": "0.5"}, "seed"),
    ],
)
def test_from_dict_rejects_values_of_the_wrong_type(values, field):
    with pytest.raises(ConfigError, match=rf"BowMlpConfig\.{field}: cannot use"):
        BowMlpConfig.from_dict(values)


@pytest.mark.parametrize(
    "config",
    [
        BowMlpConfig(),
        BowMlpConfig(hidden_units=(128, 8), sublinear_tf=False, dropout=0.0, learning_rate=0.05, seed=7),
        SplitConfig(validation_fraction=0.25, seed=3),
    ],
)
def test_dict_round_trip(config):
    plain = config.to_dict()
    assert set(plain) == {f.name for f in dataclasses.fields(config)}
    assert json.loads(json.dumps(plain)) == plain  # JSON-ready
    if isinstance(config, BowMlpConfig):
        assert plain["hidden_units"] == list(config.hidden_units)
    rebuilt = type(config).from_dict(json.loads(json.dumps(plain)))
    assert rebuilt == config
    if isinstance(rebuilt, BowMlpConfig):
        assert isinstance(rebuilt.hidden_units, tuple)


def test_from_dict_fills_defaults_and_replace_validates():
    assert BowMlpConfig.from_dict({"epochs": 3}) == BowMlpConfig(epochs=3)
    config = BowMlpConfig().replace(hidden_units=[16, 8], epochs="4")
    assert config.hidden_units == (16, 8) and config.epochs == 4
    with pytest.raises(ConfigError, match="batch_size"):
        BowMlpConfig().replace(batch_size=0)


def test_with_overrides_parses_by_field_type():
    config = BowMlpConfig().with_overrides(
        [
            "max_features=300",
            "learning_rate=0.01",
            "dropout = 0.25",
            "sublinear_tf=false",
            "hidden_units=128,64",
        ]
    )
    assert config.max_features == 300 and isinstance(config.max_features, int)
    assert config.learning_rate == 0.01 and config.dropout == 0.25
    assert config.sublinear_tf is False
    assert config.hidden_units == (128, 64)
    assert config.with_overrides(["sublinear_tf=true"]).sublinear_tf is True
    assert config.with_overrides(["hidden_units= 8 , 4"]).hidden_units == (8, 4)
    assert config.with_overrides([]) == config
    assert SplitConfig().with_overrides(["validation_fraction=0.2", "seed=5"]) == SplitConfig(0.2, 5)


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("nokey", "expected key=value, got 'nokey'"),
        ("=1", "expected key=value"),
        ("x=1", "unknown BowMlpConfig key(s): x"),
        ("epochs=many", "BowMlpConfig.epochs: cannot use 'many'"),
        ("epochs=0", "epochs must be >= 1"),
        ("sublinear_tf=maybe", "sublinear_tf"),
        ("hidden_units=128", "hidden_units must list exactly two widths"),
    ],
)
def test_with_overrides_rejects(assignment, message):
    with pytest.raises(ConfigError) as info:
        BowMlpConfig().with_overrides([assignment])
    assert message in str(info.value)


def test_from_toml(tmp_path):
    path = tmp_path / "bow.toml"
    path.write_text("epochs = 3\nhidden_units = [16, 8]\nsublinear_tf = false\nlearning_rate = 0.01\n")
    assert BowMlpConfig.from_toml(path) == BowMlpConfig(
        epochs=3, hidden_units=(16, 8), sublinear_tf=False, learning_rate=0.01
    )
    assert BowMlpConfig.from_toml(str(path)).epochs == 3


@pytest.mark.parametrize(
    ("content", "message", "names_file"),
    [
        (None, "config file not found", True),
        ("epochs = = 3\n", "is not valid TOML", True),
        ("epochs = 3\ncolour = 'blue'\n", "unknown BowMlpConfig key(s): colour", False),
        ("[model]\nepochs = 3\n", "unknown BowMlpConfig key(s): model", False),
        ("epochs = 0\n", "epochs must be >= 1", False),
    ],
)
def test_from_toml_errors(tmp_path, content, message, names_file):
    path = tmp_path / "config.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        BowMlpConfig.from_toml(path)
    assert message in str(info.value)
    if names_file:
        assert str(path) in str(info.value)


@pytest.mark.parametrize("config", [BowMlpConfig(), SplitConfig()])
def test_configs_are_frozen(config):
    field = dataclasses.fields(config)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(config, field, 1)
    assert hash(config) == hash(type(config)())
