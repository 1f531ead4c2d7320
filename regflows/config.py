"""Where regflows keeps its state, from the environment, with defaults that work on a laptop.

- ``REGFLOWS_HOME``: working folder (database file, anchors, outputs); default ``var/`` in the
  repository, which is git-ignored.
- ``REGFLOWS_DATABASE_URL``: the domain store; default a SQLite file in the home. Any SQLAlchemy
  URL works; ``postgresql+psycopg://user@127.0.0.1:5432/regflows`` for PostgreSQL.
- ``REGFLOWS_ANCHOR_DIR``: where ledger anchors are written. It should be on another medium than
  the database (a WORM share, another host): an anchor in the same hands as the database proves
  little. Default ``<home>/anchors``.
- ``REGFLOWS_PROFILE``: the institution profile; default the demo profile.
- ``REGFLOWS_EVIDENCE_DIR``: where evidence files the server may record are kept, besides what
  ``POST /uploads`` stored (regflows/kit/evidence.py); default ``<home>/evidence``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Where ``regflows up`` serves the Prefect UI and API unless told otherwise (``--host``, ``--port``).
PREFECT_HOST = "127.0.0.1"
PREFECT_PORT = 4200


class StoreNotReady(RuntimeError):
    """The store has no schema, or an older one: said in one line, with the command that fixes it.
    Defined here, not in the store, so that the CLI can catch it without loading SQLAlchemy."""


#: Folders regflows creates for its store, keys and anchors: the owner's only (issue 13, 10).
PRIVATE_DIR = 0o700


def home() -> Path:
    path = Path(os.environ.get("REGFLOWS_HOME") or REPO_ROOT / "var")
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def ingest_token() -> str | None:
    """The bearer token monitoring systems send with ``POST /incidents`` and ``POST /uploads``
    (``REGFLOWS_INGEST_TOKEN``); None when unset: the endpoint then refuses both (503)."""
    return os.environ.get("REGFLOWS_INGEST_TOKEN") or None


def database_url() -> str:
    return os.environ.get("REGFLOWS_DATABASE_URL") or f"sqlite:///{home() / 'regflows.db'}"


def anchor_dir() -> Path:
    path = Path(os.environ.get("REGFLOWS_ANCHOR_DIR") or home() / "anchors")
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def evidence_dir() -> Path:
    """The configured evidence folder (not created here: it is the institution's to fill)."""
    return Path(os.environ.get("REGFLOWS_EVIDENCE_DIR") or home() / "evidence").expanduser()


def prefect_yaml() -> Path:
    return Path(os.environ.get("REGFLOWS_PREFECT_YAML") or REPO_ROOT / "prefect.yaml")


def prefect_api_url() -> str:
    """The Prefect API this process talks to: ``PREFECT_API_URL``, else the one ``regflows up``
    starts by default. An operator's second terminal has no ``PREFECT_API_URL`` set: without this
    default, Prefect would start a temporary server of its own there instead of reaching ours."""
    return os.environ.get("PREFECT_API_URL") or f"http://{PREFECT_HOST}:{PREFECT_PORT}/api"
