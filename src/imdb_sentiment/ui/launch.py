"""Start the Streamlit app: find and check the model folders, then ``streamlit run`` the entry script.

Once the checks pass, the process *becomes* Streamlit (``exec``) rather than starting it as a child: a
supervisor, a container runtime or ``kill`` then signals the server itself, which stops and frees its
port. (A launcher that waits on a child and forwards nothing dies of SIGTERM and leaves the server
running, its port bound.)

Nothing here imports Streamlit, so ``imdb-sentiment app`` can report a bad model folder or a taken port
in one line before the server starts. The model folders reach the app twice: as script arguments (after
``--``) and in :data:`MODELS_ENV`, which is what the app reads first (Streamlit's test harness cannot pass
script arguments, and under it ``sys.argv`` is the test runner's).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from imdb_sentiment.errors import InputError, ModelError
from imdb_sentiment.hosting import check_can_listen

#: The app's entry script, as given to ``streamlit run``.
APP_PATH = Path(__file__).with_name("app.py")
#: Environment variable holding the model folders, separated by ``os.pathsep``.
MODELS_ENV = "IMDB_SENTIMENT_MODELS"
#: Where ``imdb-sentiment app`` looks for models when given none (``make run`` trains into it).
DEFAULT_MODELS_ROOT = Path("models")


def discover_models(root: str | Path = DEFAULT_MODELS_ROOT) -> list[Path]:
    """The folders directly under ``root`` that hold a ``manifest.json``, sorted by name."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "manifest.json").is_file())


def default_models(root: str | Path = DEFAULT_MODELS_ROOT) -> list[Path]:
    """What the app shows when given no models: the shipped model (when installed), then those under ``root``."""
    from imdb_sentiment.pretrained import ROOT, SHIPPED

    shipped = ROOT / SHIPPED
    return ([shipped] if (shipped / "manifest.json").is_file() else []) + discover_models(root)


def check_model_dirs(model_dirs: Sequence[str | Path]) -> list[Path]:
    """Check that every folder holds a saved model of a known kind (reading only its manifest).

    Raises:
        InputError: no folder was given.
        ModelError: a folder is not a saved model, or its kind or format version is unknown.
    """
    from imdb_sentiment.models.manifest import read_manifest
    from imdb_sentiment.models.registry import DEFAULT_KIND, available_kinds

    if not model_dirs:
        raise InputError(
            f"no models to show: pass MODEL_DIR arguments, or train one into {DEFAULT_MODELS_ROOT}/ "
            f"(imdb-sentiment train --model {DEFAULT_KIND})"
        )
    from imdb_sentiment.pretrained import resolve

    folders = [resolve(d) for d in model_dirs]
    for folder in folders:
        kind = read_manifest(folder)["kind"]
        if kind not in available_kinds():
            raise ModelError(
                f"{folder} holds a model of kind {kind!r}, which this imdb-sentiment does not know "
                f"(known: {', '.join(available_kinds())}); upgrade imdb-sentiment"
            )
    return folders


def models_from_env(argv: Sequence[str] = ()) -> list[Path]:
    """The app's model folders: :data:`MODELS_ENV` if set, else ``argv``, else those under ``./models``."""
    listed = os.environ.get(MODELS_ENV, "")
    if listed.strip():
        return [Path(p) for p in listed.split(os.pathsep) if p.strip()]
    if argv:
        return [Path(p) for p in argv]
    return default_models()


def streamlit_command(model_dirs: Sequence[Path], *, host: str, port: int, max_upload_mb: int) -> list[str]:
    """The ``streamlit run`` command line (Streamlit's own upload limit is set to the app's).

    Error details are off: an uncaught error shows a generic message in the browser, never a traceback
    with the server's paths (the full error goes to the server's log).
    """
    return [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.maxUploadSize", str(max_upload_mb),
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",
        "--", *(str(d) for d in model_dirs),
    ]  # fmt: skip


def run(model_dirs: Sequence[str | Path], *, host: str = "127.0.0.1", port: int = 8501) -> NoReturn:
    """Check the models and the address, then replace this process with Streamlit serving the app.

    Args:
        model_dirs: Saved model folders (the first is selected at start); none: those under ``./models``.
        host: Address to listen on (loopback by default; ``0.0.0.0`` for every interface).
        port: Port to listen on.

    Returns:
        Never: the process becomes Streamlit, whose exit status is the process's.

    Raises:
        InputError: no models were given or found, a limit in the environment is invalid, or the port is taken.
        ModelError: a folder is not a saved model.
    """
    from imdb_sentiment.settings import UiSettings

    settings = UiSettings.from_env()  # a bad limit in the environment fails here, not in the browser
    folders = [f.resolve() for f in check_model_dirs(list(model_dirs) or default_models())]
    check_can_listen(host, port)
    env = {**os.environ, MODELS_ENV: os.pathsep.join(map(str, folders))}
    command = streamlit_command(folders, host=host, port=port, max_upload_mb=settings.max_upload_mb)
    sys.stdout.flush()  # exec discards what is still buffered
    sys.stderr.flush()
    os.execve(command[0], command, env)
