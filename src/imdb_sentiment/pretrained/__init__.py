"""The model shipped inside the package, so that predictions work the moment imdb-sentiment is installed.

``load_model("pretrained")`` (and every CLI verb, the API and the app when no model folder is named) loads
the folder :data:`SHIPPED` beside this file: a 4-layer student distilled from all-MiniLM-L6-v2 fine-tuned on
IMDb, as int8 ONNX for inference plus float16 safetensors for explanations and further training, with a
manifest that records the commands that built it, the data fingerprint and its validation, test and
out-of-domain figures. ``make pretrained-student STUDENT_SET="--set unlabeled=15000"`` rebuilds it;
``make pretrained`` builds a 6-layer candidate (``PRETRAINED_FROM=...`` trains on from given weights).

A model reference is either one of :data:`NAMES` or a saved model folder; :func:`resolve` turns it into a
folder. A real folder wins over a name, so a folder called ``pretrained`` in the working directory is loaded
as that folder.
"""

from __future__ import annotations

from pathlib import Path

from imdb_sentiment.errors import ModelError

#: Folder (beside this file) of the one shipped model.
SHIPPED = "minilm-imdb"
#: What the library calls the shipped model; ``pretrained`` is what runs when no model is named.
DEFAULT_MODEL = "pretrained"
NAMES = (DEFAULT_MODEL, SHIPPED)
#: Where the shipped model lives; tests point this at a model they build.
ROOT = Path(__file__).resolve().parent


def shipped_path() -> Path:
    """The shipped model's folder.

    Raises:
        ModelError: this installation has no shipped model (a source checkout before ``make pretrained``).
    """
    folder = ROOT / SHIPPED
    if not (folder / "manifest.json").is_file():
        raise ModelError(
            f"the shipped model is not in this installation ({folder} has no manifest.json); "
            "build it with `make pretrained`, or name a saved model folder"
        )
    return folder


def is_shipped(path: str | Path) -> bool:
    """Whether ``path`` is the shipped model's folder (which nothing should write into)."""
    try:
        return Path(path).resolve() == (ROOT / SHIPPED).resolve()
    except OSError:
        return False


def is_model_ref(value: str | Path) -> bool:
    """Whether ``value`` names a model: a shipped name, or a folder holding a ``manifest.json``."""
    text = str(value)
    if text in NAMES:
        return True
    try:
        return (Path(text).expanduser() / "manifest.json").is_file()
    except (OSError, ValueError):
        return False


def resolve(ref: str | Path | None) -> Path:
    """The folder a model reference points to: ``None`` and the shipped names give the shipped model."""
    if ref is None:
        return shipped_path()
    path = Path(ref).expanduser()
    if str(ref) in NAMES and not path.is_dir():
        return shipped_path()
    return path
