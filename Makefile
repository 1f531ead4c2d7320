# Two commands (README): `make run` and `make test`. Both create or reuse the local virtual
# environment .venv and install the locked versions (uv.lock) into it by themselves.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: run test check install

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==0.13.8

install: $(UV)
	$(UV) sync --frozen --quiet

run: install
	$(VENV)/bin/regflows up

# The checkers first (seconds), then the tests (minutes): configured in pyproject.toml.
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: check
	$(VENV)/bin/pytest
