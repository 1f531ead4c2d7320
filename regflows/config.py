"""Where regflows keeps its state, from the environment, with defaults that work on a laptop.

- ``REGFLOWS_HOME``: working folder (database file, anchors, outputs); default ``var/`` in the
  repository, which is git-ignored.
- ``REGFLOWS_DATABASE_URL``: the domain store; default a SQLite file in the home. Any SQLAlchemy
  URL works; ``postgresql+psycopg://user@127.0.0.1:5432/regflows`` for PostgreSQL.
- ``REGFLOWS_ANCHOR_DIR``: where ledger anchors are written. It should be on another medium than
  the database (a WORM share, another host): an anchor in the same hands as the database proves
  little. Default ``<home>/anchors``.
- ``REGFLOWS_PROFILE``: the institution profile; default the demo profile.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    path = Path(os.environ.get("REGFLOWS_HOME") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    return os.environ.get("REGFLOWS_DATABASE_URL") or f"sqlite:///{home() / 'regflows.db'}"


def anchor_dir() -> Path:
    path = Path(os.environ.get("REGFLOWS_ANCHOR_DIR") or home() / "anchors")
    path.mkdir(parents=True, exist_ok=True)
    return path


def prefect_yaml() -> Path:
    return Path(os.environ.get("REGFLOWS_PREFECT_YAML") or REPO_ROOT / "prefect.yaml")
