# imdb-sentiment: `make run` sets everything up and runs the main job; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CLI := $(VENV)/bin/imdb-sentiment
STAMP := $(VENV)/.installed-stamp
MODEL ?= ngram
MODELS ?= models
REPORTS ?= reports

.PHONY: install run test test-fast bench transformer pretrained pretrained-student pretrained-reexport pretrained-rating device-data device-train device-unpack clause-reader-pack clause-reader bench-pretrained bench-transformer bench-explain notebook lint clean

install: $(STAMP)

# Re-installs only when pyproject.toml changes: the package is installed in editable mode, so source edits
# need no reinstall. torch is installed on its own first: asked for through a dependency, pip would pick
# the newest CUDA build (several GB); 2.13.0 resolves to the local CPU build on this machine.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# Debian's chromium for the browser test of the Streamlit app (tests/test_ui_browser.py).
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium) || true
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[all]"
	touch $@

run: install
	$(CLI) data
	$(CLI) train --model $(MODEL) --out $(MODELS)/$(MODEL)
	$(CLI) evaluate $(MODELS)/$(MODEL) --split test --report $(REPORTS)/$(MODEL)
	# The model shipped in the package, which runs when no model is named, on a sample of the same test reviews.
	$(CLI) evaluate --split test --limit 2000 --report $(REPORTS)/pretrained
	# Beyond positive/negative: per film, the share positive, the rating and what is praised or criticised.
	$(CLI) summarize --split test --limit 2000 --output $(REPORTS)/audience
	@echo "model:  $(MODELS)/$(MODEL)"
	@echo "report: $(REPORTS)/$(MODEL) (metrics.json and PNG plots); the shipped model's: $(REPORTS)/pretrained"
	@echo "films:  $(REPORTS)/audience/report.html (groups.csv, aspects.csv)"

# Everything, as CI runs it (.ci/run sets IMDB_DATA; without it the integration tests skip, saying why).
test: install
	$(PY) -m pytest

# Unit tests only: no real data, nothing marked slow (a few minutes less).
test-fast: install
	$(PY) -m pytest -m "not integration and not slow"

bench: install
	$(PY) bench/data.py
	$(PY) bench/accuracy.py --model ngram
	$(PY) bench/accuracy.py --model bow-mlp
	$(PY) bench/throughput.py --model ngram
	test -d $(MODELS)/ngram || $(CLI) train --model ngram --out $(MODELS)/ngram
	$(PY) bench/batch.py --model-dir $(MODELS)/ngram
	$(PY) bench/api_load.py $(MODELS)/ngram --requests 20000

# The transformer benches need a trained transformer (about an hour on 2 CPU cores: make transformer).
transformer: install
	$(CLI) train --model transformer --out $(MODELS)/transformer
	$(CLI) export $(MODELS)/transformer --onnx --int8 --out $(MODELS)/transformer-onnx-int8
	$(CLI) train --model ensemble --set members=$(MODELS)/ngram,$(MODELS)/transformer-onnx-int8 --out $(MODELS)/ensemble

# The shipped model, src/imdb_sentiment/pretrained/minilm-imdb (about an hour on 2 CPU cores): fine-tune
# MiniLM-L6 on 11,000 whole reviews cut to head + tail at 256 word pieces, export int8 ONNX with float16
# weights kept, then bench/pretrained.py scores it beside the shipped model on validation and the ood dev
# sets and replaces the shipped one only if it is better. Sentence crops (--set crops=N) exist but lost
# 5 points on SST-2 dev in a probe (docs/experiments.md), so the build leaves them out. Train on from the
# shipped weights (a second epoch, or a GPU run with PRETRAINED_SET="--set subset=0 --set max_length=512
# --set batch_size=32 --set inference_truncation=head_tail"):
#   make pretrained PRETRAINED_FROM=src/imdb_sentiment/pretrained/minilm-imdb/model
PRETRAINED_SET ?= --set subset=11000 --set max_length=256 --set inference_truncation=head_tail --set inference_batch_size=16
PRETRAINED_FROM ?=
PRETRAINED_TRAIN = imdb-sentiment train --model transformer $(PRETRAINED_SET)$(if $(PRETRAINED_FROM), --set base_model=$(PRETRAINED_FROM)) --out $(MODELS)/pretrained-torch
PRETRAINED_EXPORT = imdb-sentiment export $(MODELS)/pretrained-torch --onnx --int8 --keep-weights float16 --out $(MODELS)/pretrained-candidate
PRETRAINED_RATING = imdb-sentiment train-rating $(MODELS)/pretrained-candidate
pretrained: install
	$(VENV)/bin/$(PRETRAINED_TRAIN)
	$(VENV)/bin/$(PRETRAINED_EXPORT)
	$(VENV)/bin/$(PRETRAINED_RATING)
	$(PY) bench/pretrained.py $(MODELS)/pretrained-candidate --promote --out bench/results/pretrained-build.json \
		--command "$(PRETRAINED_TRAIN)" --command "$(PRETRAINED_EXPORT)" --command "$(PRETRAINED_RATING)"

# A smaller, faster student of the shipped model (about 50 minutes on 2 CPU cores): layers 0, 1, 2 and 5
# of its 6, trained on the reviews it was trained on from their labels and its probabilities
# (distillation), exported the same way, with a rating head; bench/pretrained.py's student rule promotes
# it only if it is at least 1.3x as fast and at most 0.005 below on its choice score and on validation.
# The teacher (STUDENT_TEACHER) is the 6-layer shipped model of commit STUDENT_TEACHER_REV, taken from git
# history when the folder is missing: never the shipped folder itself, which may hold a promoted student.
# The build of 2026-12-03 was 1.43x as fast and 0.0084 below: refused
# (bench/results/pretrained-student.json); with STUDENT_SET="--set unlabeled=10000" 1.58x and 0.0051 below:
# refused (bench/results/pretrained-student-unlabeled.json); with "--set unlabeled=15000" 1.40x and 0.0025
# above: promoted, the shipped model since (bench/results/pretrained-student-15k.json; that STUDENT_SET
# rebuilds it). STUDENT_SET adds settings: "--set unlabeled=20000" also
# distils on that many of the unlabelled reviews (3.5-4 minutes per 1,000 more on 2 CPU cores); a build
# stopped part-way resumes from its training checkpoint (in the cache, every 200 steps) when run again
# with the same settings. STUDENT_RESULT names the bench JSON, so that each build keeps its own record.
STUDENT_TEACHER ?= $(MODELS)/pretrained-teacher
STUDENT_TEACHER_REV ?= 39d4082f291403ecc251857ba52e63286a428ee3
STUDENT_LAYERS ?= 0,1,2,5
STUDENT_SET ?=
STUDENT_RESULT ?= bench/results/pretrained-student.json
STUDENT_TRAIN = imdb-sentiment train --model transformer $(PRETRAINED_SET) --set layers=$(STUDENT_LAYERS) $(STUDENT_SET) \
	--set base_model=$(STUDENT_TEACHER)/model --set teacher=$(STUDENT_TEACHER) --out $(MODELS)/student-torch
STUDENT_EXPORT = imdb-sentiment export $(MODELS)/student-torch --onnx --int8 --keep-weights float16 --out $(MODELS)/student-candidate
STUDENT_RATING = imdb-sentiment train-rating $(MODELS)/student-candidate
pretrained-student: install
	test -f $(STUDENT_TEACHER)/manifest.json || (mkdir -p $(STUDENT_TEACHER) && git archive $(STUDENT_TEACHER_REV) \
		src/imdb_sentiment/pretrained/minilm-imdb | tar -x --strip-components=4 -C $(STUDENT_TEACHER))
	$(VENV)/bin/$(STUDENT_TRAIN)
	$(VENV)/bin/$(STUDENT_EXPORT)
	$(VENV)/bin/$(STUDENT_RATING)
	$(PY) bench/pretrained.py $(MODELS)/student-candidate --promote --out $(STUDENT_RESULT) \
		--command "$(STUDENT_TRAIN)" --command "$(STUDENT_EXPORT)" --command "$(STUDENT_RATING)"

# The shipped model exported again from its kept float16 weights, without retraining (about 25 minutes on
# 2 CPU cores): the graph this version writes (eager attention, the features output a rating head reads),
# the CPU inference batch size bench/transformer_cpu.py measured fastest, a rating head fitted anew; then
# bench/pretrained.py promotes it only if it is as accurate, faster and rates better (its same-weights rule).
PRETRAINED_REEXPORT = imdb-sentiment export pretrained --onnx --int8 --keep-weights float16 --out $(MODELS)/pretrained-reexport
PRETRAINED_BATCH = imdb-sentiment reconfigure $(MODELS)/pretrained-reexport --set inference_batch_size=16 --out $(MODELS)/pretrained-reexport
PRETRAINED_REEXPORT_RATING = imdb-sentiment train-rating $(MODELS)/pretrained-reexport
pretrained-reexport: install
	rm -rf $(MODELS)/pretrained-reexport
	$(VENV)/bin/$(PRETRAINED_REEXPORT)
	$(VENV)/bin/$(PRETRAINED_BATCH)
	$(VENV)/bin/$(PRETRAINED_REEXPORT_RATING)
	$(PY) bench/pretrained.py $(MODELS)/pretrained-reexport --promote --out bench/results/pretrained-build.json \
		--command "$(PRETRAINED_REEXPORT)" --command "$(PRETRAINED_BATCH)" --command "$(PRETRAINED_REEXPORT_RATING)"

# A candidate trained on a lent GPU machine (DEVELOPERS.md), in three steps; the middle one runs there, on
# the machine's own python3 (torch with CUDA; this package from src/). A call carries at most 64 MiB and
# brings back at most 64 MiB in files of 16 MiB, so the data travels as an 11 MB export of the train
# reviews, training starts from the shipped float16 weights (already in the tree; move model.onnx aside
# for the call), and the exported candidate comes back packed and split:
#   make device-data                         here: the train reviews into $(DEVICE_DIR)/ (name it in carry)
#   make device-train OUT=$$OUT               there: train, export (int8 ONNX + float16 weights), pack into $$OUT
#   make device-unpack PARTS=<folder>        here: join the parts, fit the rating head, bench and promote
DEVICE_DIR ?= .device
DEVICE_PY ?= python3
DEVICE_SET ?= --set subset=0 --set epochs=2 --set batch_size=32 --set device=cuda
DEVICE_TRAIN = imdb-sentiment train --model transformer --data $(DEVICE_DIR)/train.parquet \
	--set max_length=256 --set inference_truncation=head_tail --set inference_batch_size=16 $(DEVICE_SET) \
	--set base_model=src/imdb_sentiment/pretrained/minilm-imdb/model --out $(DEVICE_DIR)/torch
DEVICE_EXPORT = imdb-sentiment export $(DEVICE_DIR)/torch --onnx --int8 --keep-weights float16 --out $(DEVICE_DIR)/candidate
device-data: install
	$(CLI) data --export $(DEVICE_DIR)/train.parquet --splits train

device-train:
	test -n "$(OUT)" || (echo "give OUT=folder (the device's \$$OUT)"; exit 2)
	rm -rf $(DEVICE_DIR)/torch $(DEVICE_DIR)/candidate
	PYTHONPATH=src $(DEVICE_PY) -m imdb_sentiment.cli $(subst imdb-sentiment ,,$(DEVICE_TRAIN))
	PYTHONPATH=src $(DEVICE_PY) -m imdb_sentiment.cli $(subst imdb-sentiment ,,$(DEVICE_EXPORT))
	tar czf - -C $(DEVICE_DIR) candidate | split -b 15m - $(OUT)/candidate.tar.gz.part-

device-unpack: install
	test -n "$(PARTS)" || (echo "give PARTS=folder (where the device's files came back)"; exit 2)
	rm -rf $(MODELS)/device-candidate && mkdir -p $(MODELS)/device-candidate
	cat $(PARTS)/candidate.tar.gz.part-* | tar xzf - -C $(MODELS)/device-candidate --strip-components=1
	$(CLI) train-rating $(MODELS)/device-candidate
	$(PY) bench/pretrained.py $(MODELS)/device-candidate --promote --out bench/results/pretrained-build.json \
		--command "$(DEVICE_TRAIN)" --command "$(DEVICE_EXPORT)" --command "imdb-sentiment train-rating $(MODELS)/device-candidate"

# The shipped model's clause reader (src/imdb_sentiment/pretrained/minilm-imdb/clauses/: what summarize reads
# each aspect's clause with; bench/aspects/README.md), trained on a lent GPU machine in three steps:
#   make clause-reader-pack                  here: three folders of < 64 MiB under $(DEVICE_DIR)/clause-reader/
#   three device calls, kept warm between them: each carries one folder and copies it to /root/keep; the
#   third runs `cd /root/keep && LIMIT=560 python3 gpu_train.py /root/keep /root/keep $$OUT` (about 8 minutes
#   on an H200; device/clause_reader_train.py)
#   make clause-reader PARTS=<folder>       here: the reader from PARTS/student$(CLAUSE_LAYERS).safetensors,
#                                            attached to a copy of the shipped model, promoted only if
#                                            bench/aspect_dev.py finds it reads the dev clauses better
# CLAUSE_LAYERS=3 or 4 read the dev clauses better (0.885, 0.895) but slower: the rule checks accuracy only,
# so run bench/audience.py after such a promotion (summarize must stay under 600 s for the test reviews).
CLAUSE_LAYERS ?= 2
clause-reader-pack: install
	$(PY) device/clause_reader_pack.py --out $(DEVICE_DIR)/clause-reader

clause-reader: install
	test -n "$(PARTS)" || (echo "give PARTS=folder (where the device's files came back)"; exit 2)
	$(PY) device/clause_reader_build.py $(PARTS)/student$(CLAUSE_LAYERS).safetensors --layers $(CLAUSE_LAYERS) \
		--out $(MODELS)/clause-candidate --promote

# Only the shipped model's star-rating head (about 7 minutes on 2 CPU cores: 416 s for the shipped head's
# last refit, which added the stated score): refit it in place, the classifier's files untouched;
# bench/audience.py then measures it against its peer.
pretrained-rating: install
	$(CLI) train-rating pretrained

# The shipped model's figures, reproduced from the committed artifact: the IMDb test split and the ood dev sets.
bench-pretrained: install
	$(PY) bench/robustness.py pretrained --split test --out bench/results/robustness-pretrained.json

bench-transformer: install
	$(PY) bench/accuracy.py --model-dir $(MODELS)/transformer --no-peer
	$(PY) bench/onnx_export.py $(MODELS)/transformer --limit 5000
	$(PY) bench/accuracy.py --model-dir $(MODELS)/ensemble --no-peer

bench-explain: install
	$(PY) bench/explain.py $(MODELS)/ngram $(MODELS)/bow-mlp --n 500

# The walkthrough notebook on the full data, with every saved model under $(MODELS)/ (the transformers make
# it take a while); the executed copy goes to $(REPORTS)/notebook/, outside git. It runs there, on the
# venv's own python3 kernel. A quick run: IMDB_NOTEBOOK_SAMPLE=400 make notebook.
notebook: install
	mkdir -p $(REPORTS)/notebook
	cp notebooks/sentiment_analysis.ipynb $(REPORTS)/notebook/sentiment_analysis.ipynb
	cd $(REPORTS)/notebook && IMDB_NOTEBOOK_MODELS="$${IMDB_NOTEBOOK_MODELS:-$(abspath $(MODELS))}" \
		$(abspath $(VENV))/bin/jupyter-execute --inplace --kernel_name=python3 --timeout=-1 sentiment_analysis.ipynb
	@echo "executed notebook: $(REPORTS)/notebook/sentiment_analysis.ipynb"

lint: install
	$(VENV)/bin/ruff check src tests bench device
	$(VENV)/bin/ruff format --check src tests bench device
	$(VENV)/bin/mypy src

clean:
	rm -rf $(MODELS) $(REPORTS) .pytest_cache
