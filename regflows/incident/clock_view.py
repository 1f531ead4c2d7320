"""The incident clock as the duty officer sees it in the UI: one table row per obligation.

The watch recomputes every open incident's clock each minute, but publishing it is two artifacts
per incident on the Prefect API: with 100 open incidents under load that made a tick of two
minutes, and reminder points between ticks were superseded (the load-and-faults run, README
"Production"). So the watch republishes a clock only when what it says changed (a state, a
deadline, an owner) or when the time left it shows is older than
``settings.clock_view_refresh_minutes``; the artifact's description says when it was computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from calendars.deadlines import time_left_zh
from regflows.store.models import Obligation
from regflows.store.obligations import CLOSED_STATES

#: Plain text: emoji are boxes where the browser lacks an emoji font (seen in the UI).
STATE_LABEL = {"pending": "待起算", "open": "进行中", "due_soon": "【即将到期】", "overdue": "【已逾期】",
               "fulfilled": "已履行", "waived": "已豁免", "withdrawn": "不再适用（已撤销）", "calendar_missing": "【缺日历数据】"}

#: The column that changes with every minute and nothing else: left out of "has it changed".
TIME_LEFT = "剩余"


@dataclass(frozen=True)
class ShownClock:
    """The clock table the UI shows now (the latest artifact under the incident's clock key)."""

    table: list[dict[str, Any]]
    at: dt.datetime


def clock_key(incident_id: str) -> str:
    return f"incident-{incident_id.lower()}-clock"


def due_label(row: Obligation) -> str:
    """The deadline as the duty officer reads it; 及时 (no fixed hour) is said as such, not as "not started"."""
    detail = row.detail or {}
    return str(detail.get("due_label") or ("无固定期限（及时）" if detail.get("untimed") else "未起算"))


def clock_table(rows: Sequence[Obligation], now: dt.datetime, owner: Callable[[str], str]) -> list[dict[str, str]]:
    """The table's rows; ``owner`` names a role as the profile does (零售业务处, never ``division``)."""
    table = []
    for row in rows:
        remaining = time_left_zh(row.due_at, now) if row.due_at and row.state not in CLOSED_STATES else ""
        table.append({"状态": STATE_LABEL.get(row.state, row.state), "义务": row.title, "时限": due_label(row),
                      TIME_LEFT: remaining, "依据": row.clause, "责任部门": owner(row.owner_role), "编号": row.code})
    return table


def clock_current(table: Sequence[dict[str, Any]], shown: ShownClock | None, now: dt.datetime, refresh_minutes: float) -> bool:
    """Whether the clock shown still says what ``table`` says: the same rows but for the time left,
    and that time computed less than ``refresh_minutes`` ago. Nothing shown (or unreadable) is not current."""
    if shown is None:
        return False
    if now - shown.at >= dt.timedelta(minutes=refresh_minutes):
        return False

    def fixed(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in row.items() if k != TIME_LEFT} for row in rows]

    return fixed(table) == fixed(shown.table)
