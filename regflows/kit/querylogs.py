"""What a procedure may ask of the credit-system query logs, without importing the procedure that reads them.

Why: the monthly statistics (``regflows.credit``) own the query log's reader and the monthly
rules (违规查询 附件3 8.1, 异常查询 PBOC-102 二（四）); the quarterly self-inspection needs the same
log and the same flags (PBOC-102 三（三）: 对日常监测发现的风险线索以及异常查询线索…逐笔核实), but a
procedure never imports another (tests/test_boundaries.py). So the kit declares the interface
(:class:`QueryLogSource`) and a registry; the procedure that owns the log registers its reader
and rules when it is imported, a procedure that needs them looks them up, and the composition
roots (``regflows/procedures.py``, the CLI) import both. Nothing registered is an error said in
Chinese, never an empty list of leads.

The frame :attr:`QueryLogSource.read` returns has at least :data:`COLUMNS`: ``query_id``,
``user_id``, ``queried_at`` (timezone-aware, Asia/Shanghai) and ``unit`` (the reporting unit's
code, the log's ``institution``). :attr:`QueryLogSource.flag` returns one row per flagged query
of the days asked for, with :data:`FLAG_COLUMNS`: ``query_id`` and ``rules`` (a tuple of the
rules' Chinese titles, each with its clause, the primary rule first).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pandas loads with the reader, not with every regflows command
    import pandas as pd

__all__ = ["COLUMNS", "FLAG_COLUMNS", "NoQueryLogSource", "QueryLogError", "QueryLogSource", "query_log_source",
           "register_query_log_source"]

#: The columns every source's frame has (more may follow).
COLUMNS: tuple[str, ...] = ("query_id", "user_id", "queried_at", "unit")
#: The columns of the flagged queries.
FLAG_COLUMNS: tuple[str, ...] = ("query_id", "rules")


class QueryLogError(ValueError):
    """A log that cannot be used (unreadable file, missing column, a row without its time): the
    message is Chinese and names the file and the rows."""


class NoQueryLogSource(LookupError):
    """No procedure registered a query-log source: a composition root forgot to import it."""


class _Read(Protocol):
    def __call__(self, paths: Sequence[Path], settings: Any) -> pd.DataFrame: ...


class _Flag(Protocol):
    def __call__(self, frame: pd.DataFrame, first_day: dt.date, last_day: dt.date, settings: Any,
                 users: Path | None = None) -> pd.DataFrame: ...


@dataclass(frozen=True)
class QueryLogSource:
    """A reader of the query logs and the monthly rules over them, as one procedure provides them.

    ``read(paths, settings)``: every file into one frame (:data:`COLUMNS`); ``settings`` is the
    profile's settings (the reader takes its time format from them). ``flag(frame, first_day,
    last_day, settings, users)``: the queries of those Beijing days (both included) that the
    rules flag, rows before ``first_day`` being history; ``users`` the users file, if any.
    """

    owner: str  # the procedure that registered it, named in messages
    title: str  # Chinese: what the rules are, for documents (e.g. 月度统计的违规查询与异常查询规则)
    read: _Read
    flag: _Flag


_SOURCE: list[QueryLogSource] = []


def register_query_log_source(source: QueryLogSource) -> QueryLogSource:
    """Register the (one) source; registering again replaces it (a module imported twice)."""
    _SOURCE[:] = [source]
    return source


def query_log_source() -> QueryLogSource:
    """The registered source, or :class:`NoQueryLogSource` saying what to import."""
    if not _SOURCE:
        raise NoQueryLogSource("没有登记查询日志的读取与月度规则（须由提供它的流程登记，如导入 regflows.credit；"
                               "请经 regflows/procedures.py 或 regflows 命令运行）")
    return _SOURCE[0]
