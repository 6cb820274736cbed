"""Entry script of the Streamlit app: ``streamlit run app.py -- MODEL_DIR ...`` (or ``imdb-sentiment app``).

The model folders come from ``IMDB_SENTIMENT_MODELS`` (``os.pathsep``-separated), else the script
arguments, else the folders under ``./models`` that hold a ``manifest.json``. This script draws the
sidebar's model picker and routes to one of the pages in ``views/``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from imdb_sentiment.ui import common

# No tracebacks or server paths in the browser, however the app was started (the launcher passes the
# same option, which also covers errors before this line); the full error goes to the server's log.
st.set_option("client.showErrorDetails", "none")
st.set_page_config(page_title="imdb-sentiment", layout="wide")

_VIEWS = Path(__file__).with_name("views")
pages = [
    st.Page(_VIEWS / "analyse.py", title="Analyse", default=True),
    st.Page(_VIEWS / "compare.py", title="Compare"),
    st.Page(_VIEWS / "batch.py", title="Batch"),
    st.Page(_VIEWS / "audience.py", title="Audience"),
    st.Page(_VIEWS / "report.py", title="Model report"),
]
page = st.navigation(pages)
common.sidebar_model()
st.sidebar.caption("Is a movie review positive or negative, and which words say so?")
page.run()
