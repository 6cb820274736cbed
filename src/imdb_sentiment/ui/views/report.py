"""Model report: the metrics stored in the model's manifest, its confusion matrices and training curves."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from imdb_sentiment.models.manifest import read_manifest
from imdb_sentiment.ui import analysis, common

entry = common.current()
# The manifest holds what a loaded model's info_ does, read afresh: test metrics that
# `imdb-sentiment evaluate` adds while the app runs show up, and nothing needs loading.
manifest = read_manifest(Path(entry.folder))
st.title(f"Model report: {entry.name}")
st.caption(f"Kind {entry.kind}; folder {entry.folder}")
for line in analysis.reconfigured_lines(manifest):
    # Folder names and settings come from a file on disk: shown as text, never as Markdown.
    st.text(line)

metrics = manifest.get("metrics") or {}
if not metrics:
    st.info(f"No metrics are stored with this model. Add test metrics with: imdb-sentiment evaluate {entry.folder}")
else:
    st.subheader("Metrics")
    st.table(analysis.metrics_table(metrics))
    splits = [s for s in ("validation", "test") if (metrics.get(s) or {}).get("confusion_matrix")]
    if splits:
        st.subheader("Confusion matrix")
        for column, split in zip(st.columns(len(splits)), splits, strict=True):
            stored = metrics[split]
            column.image(
                analysis.confusion_png(stored["confusion_matrix"], title=f"{split} ({stored.get('n', 0):,} reviews)")
            )
            per_class = analysis.per_class_table(stored)
            if not per_class.empty:
                column.dataframe(per_class, width="stretch")

curves = Path(entry.folder) / "training_curves.png"
if curves.is_file():
    st.subheader("Training curves")
    st.image(str(curves))

with st.expander("Configuration"):
    st.json(manifest.get("config") or {})
