"""Compare a candidate build of the shipped model with the shipped one, and promote it only if it is better.

    python bench/pretrained.py CANDIDATE [--promote] [--command "..."]... [--out FILE]

Both models are scored in the same run on the IMDb validation reviews (carved from train) and on the
out-of-domain development sets (``bench/robustness.py``). The choice reads only those: the score is the
mean accuracy over validation, SST-2 dev and the two edited sides (contrast, CAD revised), so a build
that gains on IMDb by recalling reviews cannot win. A candidate that keeps the shipped classifier's
weights byte for byte (a new export of them, ``make pretrained-reexport``) differs only by int8 rounding
there: it is better when its score is at most 0.002 below, it scores validation at least 5% faster in
this run, and its rating head's validation MAE (from its manifest, written by ``train-rating``) is no
higher. A candidate with fewer encoder layers than the shipped model (a student distilled from it, ``make
pretrained-student``) trades a little accuracy for speed: it is better when it scores validation at least
1.3x as fast in this run, and neither its score nor its validation accuracy is more than 0.005 below the
shipped model's. A candidate with more encoder layers than the shipped model (a teacher-sized build once
a student is shipped) is that rule read the other way, so the two never swap one model for the other: it
is better when its score is higher and its score or its validation accuracy is more than 0.005 higher.
With ``--promote`` and a better candidate (or no shipped model yet), the candidate is
scored once on the IMDb test split (its final figures), its manifest records the test and out-of-domain
figures and the ``--command`` lines that built it, and it replaces the shipped folder atomically. Prints
one JSON object (also written to ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from imdb_sentiment import load_imdb
from imdb_sentiment._atomic import atomic_dir
from imdb_sentiment.models.manifest import MANIFEST, read_manifest
from imdb_sentiment.pretrained import ROOT, SHIPPED
from robustness import _DEFAULT_OOD, bench_model, emit, read_jsonl

#: The sets the choice reads (IMDb validation under the name "imdb").
CHOICE_SETS = ("imdb", "sst2_dev", "imdb_contrast_dev_contrast", "imdb_cad_dev_new")


def choice_score(result: dict) -> float:
    return round(sum(result[name]["accuracy"] for name in CHOICE_SETS) / len(CHOICE_SETS), 4)


#: The classifier's weights in a folder that kept them.
WEIGHTS = "model/model.safetensors"


def same_weights(candidate: Path, shipped: Path) -> bool:
    """Whether both folders keep the same PyTorch weights (their manifests' SHA-256 of them)."""
    ours, theirs = (read_manifest(folder)["files"].get(WEIGHTS) for folder in (candidate, shipped))
    return ours is not None and ours == theirs


def rating_validation(folder: Path) -> dict | None:
    """The rating head's validation figures its manifest records (``None`` without a head)."""
    rating = read_manifest(folder).get("rating") or {}
    return (rating.get("metrics") or {}).get("validation")


def same_weights_better(result: dict) -> bool:
    """The rule for a new export of the same weights (the module's docstring), with its parts recorded."""
    new, old = result["candidate"], result["shipped"]
    speed = new["imdb"]["texts_per_s"] / old["imdb"]["texts_per_s"]
    new_mae = (new["rating_validation"] or {}).get("mae", float("inf"))
    old_mae = (old["rating_validation"] or {}).get("mae", float("inf"))
    result["same_weights"] = {
        "score_change": round(new["score"] - old["score"], 4),
        "speed_ratio": round(speed, 3),
        "rating_mae": [new_mae, old_mae],
    }
    return new["score"] >= old["score"] - 0.002 and speed >= 1.05 and new_mae <= old_mae


def encoder_layers(folder: Path) -> int | None:
    """How many encoder layers the model in ``folder`` has (its ``model/config.json``; ``None``: unknown)."""
    try:
        return int(json.loads((folder / "model" / "config.json").read_text(encoding="utf-8"))["num_hidden_layers"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


#: The student rule (the module's docstring): the least speed-up, and the most its score and its
#: validation accuracy may fall below the shipped model's.
STUDENT_SPEEDUP = 1.3
STUDENT_LOSS = 0.005


def student_better(result: dict) -> bool:
    """The rule for a candidate with fewer encoder layers, with its parts recorded."""
    new, old = result["candidate"], result["shipped"]
    speed = new["imdb"]["texts_per_s"] / old["imdb"]["texts_per_s"]
    result["student"] = {
        "layers": [new["layers"], old["layers"]],
        "score_change": round(new["score"] - old["score"], 4),
        "validation_change": round(new["imdb"]["accuracy"] - old["imdb"]["accuracy"], 4),
        "speed_ratio": round(speed, 3),
    }
    return (
        speed >= STUDENT_SPEEDUP
        and new["score"] >= old["score"] - STUDENT_LOSS
        and new["imdb"]["accuracy"] >= old["imdb"]["accuracy"] - STUDENT_LOSS
    )


def larger_better(result: dict) -> bool:
    """The rule for a candidate with more encoder layers (the student rule read the other way), recorded."""
    new, old = result["candidate"], result["shipped"]
    score_gain = new["score"] - old["score"]
    validation_gain = new["imdb"]["accuracy"] - old["imdb"]["accuracy"]
    result["larger"] = {
        "layers": [new["layers"], old["layers"]],
        "score_change": round(score_gain, 4),
        "validation_change": round(validation_gain, 4),
    }
    return score_gain > 0 and max(score_gain, validation_gain) > STUDENT_LOSS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate", help="a saved transformer folder (exported with ONNX and kept weights)")
    parser.add_argument("--promote", action="store_true", help="replace the shipped model if the candidate is better")
    parser.add_argument("--command", action="append", default=[], help="a command that built the candidate")
    parser.add_argument("--data", default=None)
    parser.add_argument("--ood-dir", default=os.environ.get("IMDB_OOD", str(_DEFAULT_OOD)))
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)

    ood_sets = {f.stem: read_jsonl(f) for f in sorted(Path(args.ood_dir).glob("*.jsonl"))}
    if not ood_sets:
        print(f"error: no *.jsonl sets in {args.ood_dir}", file=sys.stderr)
        return 2
    data = load_imdb(args.data, progress=False)
    validation = (data.validation["text"].tolist(), data.validation["label"].to_numpy("int64"))
    shipped = ROOT / SHIPPED
    has_shipped = (shipped / MANIFEST).is_file()
    candidate = bench_model(args.candidate, ood_sets, validation)
    candidate["score"] = choice_score(candidate)
    candidate["rating_validation"] = rating_validation(Path(args.candidate))
    candidate["layers"] = encoder_layers(Path(args.candidate))
    result: dict = {"bench": "pretrained", "choice_sets": list(CHOICE_SETS), "candidate": candidate}
    if has_shipped:
        current = bench_model(str(shipped), ood_sets, validation)
        current["score"] = choice_score(current)
        current["rating_validation"] = rating_validation(shipped)
        current["layers"] = encoder_layers(shipped)
        result["shipped"] = current
    if has_shipped and same_weights(Path(args.candidate), shipped):
        better = same_weights_better(result)
    elif has_shipped and (candidate["layers"] or 0) < (result["shipped"]["layers"] or 0):
        better = student_better(result)
    elif has_shipped and (candidate["layers"] or 0) > (result["shipped"]["layers"] or 0):
        better = larger_better(result)
    else:
        better = not has_shipped or candidate["score"] > result["shipped"]["score"]
    result["candidate_is_better"] = better
    result["promoted"] = False
    if args.promote and better:
        test = (data.test["text"].tolist(), data.test["label"].to_numpy("int64"))
        final = bench_model(args.candidate, {}, test)
        result["candidate_test"] = final["imdb"]
        manifest = read_manifest(Path(args.candidate))
        manifest["metrics"]["test"] = final["imdb"]
        manifest["metrics"]["out_of_domain"] = {name: candidate[name] for name in ood_sets} | {
            "both_sides_right": candidate["both_sides_right"]
        }
        manifest["build"] = {
            "commands": args.command,
            "choice": {"sets": list(CHOICE_SETS), "score": candidate["score"]},
            "replaced": result.get("shipped", {}).get("score"),
        }
        with atomic_dir(shipped) as tmp:
            shutil.copytree(args.candidate, tmp, dirs_exist_ok=True)
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        result["promoted"] = True
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
