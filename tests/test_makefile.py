"""`make install` installs the Debian packages the tests need, only when missing, and retries once
after `apt-get update` (a fresh CI machine's package lists are empty). The real apt-get is never
run here: ``APT_GET`` and ``DPKG_QUERY`` point at small scripts that record their calls."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")

#: dpkg-query stand-in: the packages listed in $INSTALLED are installed, the others unknown.
DPKG_QUERY = """#!/bin/sh
for a; do pkg="$a"; done  # the last argument
for p in $INSTALLED; do [ "$p" = "$pkg" ] && { echo "install ok installed"; exit 0; }; done
echo "dpkg-query: no packages found matching $pkg" >&2; exit 1
"""
#: apt-get stand-in: records its calls; `install` fails until `update` has run when $STALE is set.
APT_GET = """#!/bin/sh
echo "$DEBIAN_FRONTEND $*" >> "$CALLS"
if [ "$1" = update ]; then touch "$CALLS.updated"; exit 0; fi
if [ -n "$STALE" ] && [ ! -e "$CALLS.updated" ]; then exit 100; fi
exit 0
"""


def run_make(tmp_path: Path, installed: str, stale: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    for name, text in (("dpkg-query", DPKG_QUERY), ("apt-get", APT_GET)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / name).chmod(0o755)
    calls = tmp_path / "calls"
    env = dict(os.environ, INSTALLED=installed, CALLS=str(calls), STALE="1" if stale else "")
    env.pop("SKIP_SYSTEM_PACKAGES", None)
    result = subprocess.run(["make", "--no-print-directory", "system-packages", f"APT_GET={tmp_path / 'apt-get'}",
                             f"DPKG_QUERY={tmp_path / 'dpkg-query'}"], cwd=REPO, env=env, capture_output=True, text=True)
    return result, calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


ALL = "chromium fonts-noto-cjk libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils postgresql-client"


@pytest.mark.skipif(os.geteuid() != 0 and shutil.which("sudo") is None, reason="installs as root or through sudo")
def test_only_the_missing_packages_are_installed(tmp_path: Path) -> None:
    result, calls = run_make(tmp_path, installed="chromium libreoffice-calc-nogui libreoffice-writer-nogui postgresql-client")
    assert result.returncode == 0, result.stderr
    assert calls == ["noninteractive install -y --no-install-recommends fonts-noto-cjk poppler-utils"]


def test_nothing_runs_when_everything_is_installed(tmp_path: Path) -> None:
    result, calls = run_make(tmp_path, installed=ALL)
    assert result.returncode == 0, result.stderr
    assert calls == []


@pytest.mark.skipif(os.geteuid() != 0 and shutil.which("sudo") is None, reason="installs as root or through sudo")
def test_a_failed_install_is_retried_once_after_update(tmp_path: Path) -> None:
    result, calls = run_make(tmp_path, installed="", stale=True)
    assert result.returncode == 0, result.stderr
    install = f"noninteractive install -y --no-install-recommends {ALL}"
    assert calls == [install, "noninteractive update", install]
