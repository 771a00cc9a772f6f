# Quick start: `make demo` answers a question from the bundled sample issues; `make test` runs the tests.
# Both create the virtual environment in .venv and install everything on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# PyTorch: scripts/install.sh takes the CPU build by default (on Linux, plain `pip install torch` pulls a
# multi-GB CUDA build); TORCH_INDEX picks another wheel index (see the README).
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
export TORCH_SPEC TORCH_INDEX PYTHON
QUESTION ?= what is layer skip

.PHONY: demo test test-fast lint install clean

# scripts/install.sh is the one install path: make, CI and the Dockerfile all use it
$(VENV)/.installed: pyproject.toml scripts/install.sh
	scripts/install.sh $(VENV) dev
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/bot ask "$(QUESTION)"

# two workers (pytest-xdist): most tests wait on servers and child processes, so two halve the wall time
test: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -n 2

# the library's behaviour in about two minutes: no subprocess, Discord test server, Chroma server or shared archive
test-fast: $(VENV)/.installed
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -n 2 -m "not slow"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) data .pytest_cache
