"""A small synthetic users file for a quarter, for demos and tests (issue 15, "Inputs").

The users the query logs name are written clean (a formal employee's distributed query user,
filed, its password changed in the quarter's last month); then one planted user per check,
each tripping exactly that check at the quarter's end (``PLANTED``), so a run over a demo log
finds what is known to be there. Deterministic: no randomness, the same ids and quarter give
the same text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from regflows.inspection.models import Quarter
from regflows.inspection.users import COLUMNS, OPTIONAL_COLUMNS

__all__ = ["PLANTED", "users_csv", "vulns_csv"]

#: The planted users and the one check each trips.
PLANTED: dict[str, str] = {
    "X-SHARED": "shared_roles", "X-PUBLIC": "public_user", "X-TEMP": "non_formal_user", "X-STALE": "password_stale",
    "X-REUSE": "password_policy", "X-ADMIN": "filing_late",
}


def users_csv(user_ids: Sequence[str], quarter: Quarter) -> str:
    """The users file's text: ``user_ids`` clean (distributed query users), then :data:`PLANTED`.

    The clean users' volume and idleness depend on the log: they are written so that only the
    log can trip ``idle_not_locked``/``low_volume_not_suspended`` for them.
    """
    end = quarter.last_day
    recent = (end.replace(day=1)).isoformat()
    created = dt.date(quarter.year - 1, 1, 4).isoformat()
    filed = dt.date(quarter.year - 1, 1, 5).isoformat()
    header = ",".join(COLUMNS + OPTIONAL_COLUMNS)

    def row(user_id: str, person: str = "p", roles: str = "query", mode: str = "distributed", formal: str = "true",
            changed: str = recent, policy: str = "true", reused: str = "false", filed_at: str = filed,
            direct: str = "false", created_at: str = created) -> str:
        return ",".join([user_id, person, f'"{roles}"', mode, "active", "", formal, created_at, filed_at, changed, policy,
                         reused, "", direct, ""])  # unit empty: each user's unit is the one it queries for

    lines = [header] + [row(u, person=f"staff-{i:03d}") for i, u in enumerate(user_ids)]
    admin_created = end.replace(day=1)
    lines += [
        row("X-SHARED", person="staff-s01", roles="admin,report", mode="", filed_at=created),
        row("X-PUBLIC", person="", roles="report", mode=""),
        row("X-TEMP", person="contractor-01", roles="report", mode="", formal="false"),
        row("X-STALE", person="staff-s02", roles="report", mode="", changed=dt.date(quarter.year - 1, 6, 1).isoformat()),
        row("X-REUSE", person="staff-s03", roles="report", mode="", reused="true"),
        row("X-ADMIN", person="staff-s04", roles="admin", mode="", created_at=admin_created.isoformat(), filed_at=""),
    ]
    return "\n".join(lines) + "\n"


def vulns_csv(quarter: Quarter) -> str:
    """A small vulnerability register for the quarter (NFRA 23): fixed in time, fixed late, open,
    and open past its due day, across the four severities, so the demo's analysis has figures."""
    first, last = quarter.first_day, quarter.last_day

    def day(base: dt.date, days: int) -> str:
        return (base + dt.timedelta(days=days)).isoformat()

    rows = [
        ("V-001", "严重", day(first, 3), day(first, 10), day(first, 8)),   # fixed in time
        ("V-002", "高危", day(first, 12), day(first, 42), day(first, 50)),  # fixed late
        ("V-003", "高危", day(first, 30), day(first, 60), ""),              # open past due
        ("V-004", "中危", day(first, 40), day(last, 30), ""),               # open, not yet due
        ("V-005", "中危", day(first, 5), day(first, 95), day(first, 20)),   # fixed in time
        ("V-006", "低危", day(last, -20), day(last, 70), ""),               # open, not yet due
    ]
    return "id,severity,found,due,fixed\n" + "".join(",".join(r) + "\n" for r in rows)
