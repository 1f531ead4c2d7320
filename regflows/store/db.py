"""Engine, sessions and migrations for the domain store."""

from __future__ import annotations

import os

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from regflows import config

MIGRATIONS = Path(__file__).parent / "migrations"


def _normalise(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3, the driver we ship."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def engine_for(url: str) -> Engine:
    url = _normalise(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(mode=config.PRIVATE_DIR, parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(eng, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return eng
    return create_engine(url, pool_pre_ping=True)


def engine(url: str | None = None) -> Engine:
    return engine_for(url or config.database_url())


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", _normalise(url).replace("%", "%%"))
    return cfg


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store (None for other databases and in-memory ones)."""
    parsed = make_url(_normalise(url))
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _require_store(url: str) -> None:
    """A SQLite store that does not exist is not created by reading it: SQLite would make an empty
    file, and the next command would find a store that is "there" but has no schema."""
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        raise config.StoreNotReady(f"业务数据库 {path} 不存在：请先运行 regflows db upgrade（make run 会自动执行）")


def migrate(url: str | None = None) -> None:
    """Bring the store to the newest schema (idempotent). Only this creates a SQLite store's file,
    owner-only (0600; SQLite gives its -wal and -shm files the same mode)."""
    url = url or config.database_url()
    path = _sqlite_file(url)
    if path is not None:
        path.parent.mkdir(mode=config.PRIVATE_DIR, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        path.chmod(0o600)  # a store created world-readable by an earlier version is closed too
    with engine(url).begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def schema_status(url: str | None = None) -> tuple[str | None, str]:
    """(current revision, head revision) of the store."""
    url = url or config.database_url()
    _require_store(url)
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    with engine(url).connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, head


#: What SQLite and PostgreSQL say about a table the migrations have not created yet.
_MISSING_TABLE = ("no such table", "no such column", "UndefinedTable", "UndefinedColumn")  # not a missing database or role


@contextmanager
def session(url: str | None = None) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error. A store that was never
    migrated (or is behind the code) raises :class:`regflows.config.StoreNotReady` instead of a driver traceback."""
    _require_store(url or config.database_url())
    factory = sessionmaker(engine(url), expire_on_commit=False)
    try:
        with factory() as s, s.begin():
            yield s
    except (OperationalError, ProgrammingError) as exc:
        if not any(marker in str(exc.orig) or marker in type(exc.orig).__name__ for marker in _MISSING_TABLE):
            raise
        where = make_url(_normalise(url or config.database_url())).render_as_string(hide_password=True)
        raise config.StoreNotReady(f"业务数据库 {where} 尚未初始化或版本落后于程序（{str(exc.orig).splitlines()[0]}）："
                            "请先运行 regflows db upgrade（make run 会自动执行）") from exc
