"""What every page shares: the model list, models loaded once per server, the sidebar picker, the limits.

Models are cached with ``st.cache_resource``: one copy per server process, shared by every session, as
loading a large model takes seconds and its weights hundreds of MB. Explanations are cached the same way
(a few dozen), so moving the attention layer/head selectors does not explain the review again.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from typing import Any

import streamlit as st

from imdb_sentiment.errors import ImdbSentimentError
from imdb_sentiment.explain import Explanation
from imdb_sentiment.hosting import unique_names
from imdb_sentiment.models.base import SentimentModel
from imdb_sentiment.settings import UiSettings
from imdb_sentiment.ui import analysis
from imdb_sentiment.ui.launch import check_model_dirs, models_from_env


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """One model the app offers: its display name (the folder's), folder and kind."""

    name: str
    folder: str
    kind: str

    @property
    def title(self) -> str:
        return f"{self.name} ({self.kind})"


@st.cache_resource(show_spinner="Loading the model...")
def load(folder: str) -> SentimentModel:
    """The model saved in ``folder``, loaded once per server process."""
    from imdb_sentiment import load_model

    return load_model(folder)


@st.cache_resource(show_spinner="Explaining...", max_entries=32)
def explain(folder: str, text: str, attention: bool = True) -> Explanation:
    """The explanation of ``text`` by the model in ``folder`` (cached; it may take seconds for a large model)."""
    return analysis.explain(load(folder), text, attention=attention)


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped, for messages that quote what a user gave
    (a file or column name, a parser's complaint): Streamlit renders its messages as Markdown."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def settings() -> UiSettings:
    """The limits from the environment; a bad value stops the page with its message."""
    try:
        return UiSettings.from_env()
    except ImdbSentimentError as exc:
        st.error(plain(str(exc)))
        st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def entries() -> list[ModelEntry]:
    """The models given to the app; stops the page with a message when a folder is not a saved model."""
    from imdb_sentiment.models.manifest import read_manifest

    try:
        folders = check_model_dirs(models_from_env(sys.argv[1:]))
    except ImdbSentimentError as exc:
        st.error(f"Cannot start: {plain(str(exc))}")
        st.stop()
    return [
        ModelEntry(name, str(folder), read_manifest(folder)["kind"])
        for name, folder in zip(unique_names(folders), folders, strict=True)
    ]


def sidebar_model() -> ModelEntry:
    """The model picker in the sidebar. The entry script draws it, before the page, so that the choice
    is one widget for every page and survives moving between them."""
    return pick("Model", key="model", container=st.sidebar)


def pick(label: str, *, key: str, index: int = 0, container: Any = st) -> ModelEntry:
    """A selectbox of the models, by name (plain strings keep the widget's state simple), shown with kind."""
    by_name = {e.name: e for e in entries()}
    names = list(by_name)
    name = container.selectbox(label, names, index=index % len(names), format_func=lambda n: by_name[n].title, key=key)
    return by_name[name]


def current() -> ModelEntry:
    """The model chosen in the sidebar."""
    by_name = {e.name: e for e in entries()}
    return by_name.get(st.session_state.get("model", ""), next(iter(by_name.values())))


def loaded(entry: ModelEntry) -> SentimentModel:
    """The entry's model; stops the page with the reason when it cannot be loaded."""
    try:
        return load(entry.folder)
    except ImdbSentimentError as exc:
        st.error(f"Cannot load {entry.name}: {plain(str(exc))}")
        st.stop()
    raise AssertionError("unreachable")


def explained(entry: ModelEntry, text: str, *, attention: bool = True) -> Explanation | None:
    """The entry's explanation of ``text``, or ``None`` after showing why there is none."""
    loaded(entry)
    try:
        return explain(entry.folder, text, attention)
    except ImdbSentimentError as exc:
        st.error(f"{entry.name} cannot explain this review: {plain(str(exc))}")
        return None
