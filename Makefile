# One-command set-up: `make run` (chat on the bundled article) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install chromium run test test-fast bench bench-scale screenshot clean train-reader train-support export-encoder

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python app.py

# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser"

# Retrain the reader from ../shared/data (SQuAD): a first run into training/out/, a second stage into
# training/out/stage2/, then the shipped third stage into training/out/stage3/; `--ship` would replace qa/models/.
train-reader: $(STAMP)
	$(BIN)/python training/train_reader.py --out training/out --context-tokens 24
	$(BIN)/python training/train_reader.py --out training/out/stage2 --init-run training/out --skip-questions 40000 \
		--train-questions 16000 --lr 3e-5 --curve "" --negatives prefilter --hard-negatives 3 --context-tokens 24
	$(BIN)/python training/train_reader.py --out training/out/stage3 --init-run training/out/stage2 --skip-questions 55840 \
		--train-questions 10000 --lr 3e-5 --curve "" --negatives prefilter --hard-negatives 3

# Retrain the support check of written answers (qa/support.py) into training/out/; `--ship` would replace qa/models/.
train-support: $(STAMP)
	$(BIN)/python training/train_support.py --out training/out

# Re-export the int8 ONNX embedding model from the bundled all-MiniLM-L6-v2 weights into qa/models/
# and pin its sha256 in qa/embedding.py (deterministic: the same libraries give the same bytes).
export-encoder: $(STAMP)
	$(BIN)/python training/export_encoder.py --out training/out --ship

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# The scale tables (1M vectors, SQuAD train; long): appended to benchmarks/results.md.
bench-scale: $(STAMP)
	$(BIN)/python benchmarks/run_all.py --scale

clean:
	rm -rf $(VENV) index/*.faiss index/*.jsonl index/manifest.json .pytest_cache

screenshot: $(STAMP) chromium
	$(BIN)/python scripts/screenshot.py
