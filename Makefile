# Two commands (README): `make run` and `make test`. Both create or reuse the local virtual
# environment .venv and install the locked versions (uv.lock) into it by themselves.
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

# Debian packages the tests and documents need (README, "Two commands"): chromium with CJK fonts
# for the browser tests, LibreOffice and poppler to turn the .xlsx/.docx into PDF and pictures.
DEB_PACKAGES := chromium fonts-noto-cjk libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils postgresql-client
APT_GET ?= apt-get
DPKG_QUERY ?= dpkg-query

.PHONY: run test check install system-packages screenshots

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==0.13.8

# --compile-bytecode: uv installs sources only, and where Python may not write its cache
# (PYTHONDONTWRITEBYTECODE, a read-only install) every command compiled some 2,000 modules from
# source on each start: about 6 s of `regflows credit-stats run` (issue 18, measured with cProfile).
install: system-packages $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode

# Only what is missing; as root directly, else through sudo; once more after `apt-get update`
# when the first try fails (a fresh machine's package lists are empty or stale).
# SKIP_SYSTEM_PACKAGES=1 skips the step (a machine where they come another way).
system-packages:
	@[ -n "$(SKIP_SYSTEM_PACKAGES)" ] && exit 0; \
	missing=""; \
	for p in $(DEB_PACKAGES); do \
	  $(DPKG_QUERY) -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || missing="$$missing $$p"; \
	done; \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "缺少 Debian 软件包：$$missing；请以 root 运行 apt-get install -y --no-install-recommends$$missing（或设 SKIP_SYSTEM_PACKAGES=1 跳过）" >&2; exit 1; fi; \
	if ! command -v $(APT_GET) >/dev/null 2>&1; then \
	  echo "缺少软件包：$$missing；本机没有 $(APT_GET)，请用本系统的包管理器安装（或设 SKIP_SYSTEM_PACKAGES=1 跳过）" >&2; exit 1; fi; \
	echo "安装 Debian 软件包：$$missing"; \
	$$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends $$missing \
	  || { $$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) update \
	       && $$sudo env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends $$missing; }

run: install
	$(VENV)/bin/regflows up

# The checkers first (seconds), then the tests (minutes): configured in pyproject.toml.
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: check
	$(VENV)/bin/pytest

# The browser tests again, copying the tour's screenshots (tests/browser/conftest.py, TOUR) into
# docs/tour/ for docs/tour.md.
screenshots: install
	REGFLOWS_TOUR_DIR=$(CURDIR)/docs/tour $(VENV)/bin/pytest -m browser tests/browser
