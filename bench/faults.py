"""Kill a process while it saves a model, many times at random moments; count what survives. One JSON object.

    python bench/faults.py [--kills 40] [--seed 0] [--out bench/results/faults.json]

Each round starts a process that saves two small ngram models in turn into one folder, sends it SIGKILL
after a random delay (0 to 0.5 s into the save loop), then loads what is under the folder's name (after
the clean-up the next save does first, ``_atomic.clean_leftovers``). A round survives when the folder
loads and predicts exactly as one of the two models; the counts say how many rounds were killed in the
middle of a save (a temporary or moved-aside folder was left), how many needed the folder put back, and
how many leftovers remained after the clean-up (must be 0). The peer is the same loop writing with plain
``numpy.savez`` + ``json.dump`` into the folder, no atomic rename: how often a kill leaves it unloadable.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import make_toy_reviews
from imdb_sentiment import load_model
from imdb_sentiment._atomic import clean_leftovers
from imdb_sentiment.errors import ImdbSentimentError
from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig
from robustness import emit

PROBE = ["A wonderful, superb film.", "An awful, boring waste."]
SAVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np
    sys.path.insert(0, {tests!r})
    from conftest import make_toy_reviews
    from imdb_sentiment.models.ngram import NgramClassifier, NgramConfig

    models = []
    for seed in (0, 1):
        texts, labels = make_toy_reviews(80, seed=seed)
        models.append(NgramClassifier(config=NgramConfig(n_bits=18)).fit(texts, labels))
    dest, mode = Path(sys.argv[1]), sys.argv[2]
    models[0].save(dest)
    print("ready", flush=True)
    i = 0
    while True:
        i += 1
        if mode == "atomic":
            models[i % 2].save(dest)
        else:  # the peer: overwrite the files in place
            np.savez(dest / "plain.npz", w=models[i % 2].feature_weights_)
            (dest / "plain.json").write_text(json.dumps({{"i": i}}))
    """
)


def fit(seed: int) -> NgramClassifier:
    texts, labels = make_toy_reviews(80, seed=seed)
    return NgramClassifier(config=NgramConfig(n_bits=18)).fit(texts, labels)


def run_round(script: Path, dest: Path, mode: str, delay: float) -> subprocess.Popen:
    saver = subprocess.Popen([sys.executable, str(script), str(dest), mode], stdout=subprocess.PIPE, text=True)
    assert saver.stdout is not None and saver.stdout.readline().strip() == "ready"
    time.sleep(delay)
    saver.send_signal(signal.SIGKILL)
    saver.wait()
    return saver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the JSON here (bench/results/faults.json)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    versions = [fit(seed).predict_proba(PROBE) for seed in (0, 1)]
    counts = {"rounds": 0, "loaded": 0, "matched_a_saved_model": 0, "mid_save": 0, "put_back": 0,
              "leftovers_after_cleanup": 0, "errors": {}}  # fmt: skip
    peer = {"rounds": 0, "unloadable": 0}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as root_name:
        root = Path(root_name)
        script = root / "saver.py"
        script.write_text(SAVER.format(tests=str(Path(__file__).resolve().parents[1] / "tests")))
        for i in range(args.kills):
            delay = rng.uniform(0.0, 0.5)
            dest = root / f"model-{i}"
            run_round(script, dest, "atomic", delay)
            counts["rounds"] += 1
            left = [p for p in root.iterdir() if p.name.startswith(f".{dest.name}.")]
            counts["mid_save"] += bool(left)
            handled = clean_leftovers(dest)
            counts["put_back"] += any(".old-" in p.name for p in handled) and dest.is_dir()
            counts["leftovers_after_cleanup"] += len([p for p in root.iterdir() if p.name.startswith(f".{dest.name}.")])
            try:
                proba = load_model(dest).predict_proba(PROBE)
            except ImdbSentimentError as exc:
                name = type(exc).__name__
                counts["errors"][name] = counts["errors"].get(name, 0) + 1
            else:
                counts["loaded"] += 1
                counts["matched_a_saved_model"] += any(np.array_equal(proba, v) for v in versions)

            peer_dest = root / f"peer-{i}"
            run_round(script, peer_dest, "plain", delay)
            peer["rounds"] += 1
            try:
                with np.load(peer_dest / "plain.npz", allow_pickle=False) as saved:
                    saved["w"].sum()
                json.loads((peer_dest / "plain.json").read_text())
            except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
                peer["unloadable"] += 1
    emit(
        {
            "bench": "faults",
            "fault": "SIGKILL at a random moment of a loop saving a model into one folder",
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "atomic_save": counts,
            "peer_plain_overwrite": peer,
            "seconds": round(time.perf_counter() - start, 1),
            "command": "python bench/faults.py " + " ".join(sys.argv[1:]),
        },
        args.out,
    )


if __name__ == "__main__":
    main()
