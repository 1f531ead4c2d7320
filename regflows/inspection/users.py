"""The users file of the self-inspection: one row per credit-system user (issue 15, "Inputs").

CSV in UTF-8 (with or without BOM) or GBK, read as the credit statistics read theirs: UTF-8
first, then GB18030 (a superset of GBK), a repeated column name refused. The code is not shared
with ``regflows/credit/io.py`` on purpose: procedures never import each other
(tests/test_boundaries.py), and the credit reader is a pandas reader built for ten-million-row
logs that leaves bad values to its data-quality suite, while this file is small (one row per
user) and every row becomes a typed :class:`User` here, so the two share a policy (the encoding
order), not code.

Why a bad row refuses the whole file instead of being skipped: the checks over a users list
with a row missing would report fewer findings and look complete. Every problem is listed at
once, each with its line (as a spreadsheet shows it, the header being line 1) and its column.

Dates are Beijing calendar days: ``YYYY-MM-DD``, or an ISO 8601 time (``T`` or a space between
date and time, an optional offset, converted to Beijing time) whose day is taken; ``05/10/2025``
and other orders that can be read two ways are refused, never guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from calendars.zone import SHANGHAI
from regflows.kit.files import decode_text
from regflows.inspection.models import InspectionInputError

__all__ = [
    "CHECK_COLUMNS", "COLUMNS", "OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "ROLES", "QueryMode", "Role", "RowProblem", "Status", "User", "UsersFile",
    "UsersFileError", "csv_error_text", "os_error_text", "parse_users", "read_users",
]

Role = Literal["admin", "report", "query", "dispute"]
QueryMode = Literal["centralised", "distributed"]
Status = Literal["active", "locked", "suspended"]
ROLES: tuple[str, ...] = ("admin", "report", "query", "dispute")
MODES: tuple[str, ...] = ("centralised", "distributed")
STATUSES: tuple[str, ...] = ("active", "locked", "suspended")
COLUMNS: tuple[str, ...] = (
    "user_id", "person_id", "roles", "query_mode", "status", "status_since", "formal_employee", "created_at",
    "filed_at", "password_changed_at", "password_policy_ok", "password_reused",
)
#: ``unit``: the reporting unit the user belongs to (its report: PBOC-102 三（三）, the event
#: reports' route); without it a user belongs to the unit it queried for most (pipeline.py).
OPTIONAL_COLUMNS: tuple[str, ...] = ("changed_at", "direct_user", "unit")
#: The columns every user needs (who it is, its roles and mode, its status over time, its creation):
#: without one no check can run and the file is refused. The other columns of :data:`COLUMNS` are
#: each needed by some checks only (checks.NEEDS): without one those checks are not evaluated and
#: the others still run (issue 15: a column absent makes a check null with its reason).
REQUIRED_COLUMNS: tuple[str, ...] = ("user_id", "roles", "query_mode", "status", "status_since", "created_at")
CHECK_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in REQUIRED_COLUMNS)
MAX_TEXT_LENGTH = 200
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f"}
_ROLE_SEPARATORS = re.compile(r"[,，、;；]")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class User:
    """One credit-system user as the file states it at the quarter's end.

    ``status`` holds since ``status_since``: a locked or suspended user was active from its
    creation until the day before ``status_since``; an active user is active from
    ``status_since`` (or its creation when empty) on (see :meth:`active_on`).
    ``changed_at``/``direct_user`` are None when the file has no such column (or, for
    ``changed_at``, when the user was never changed).
    """

    line: int
    user_id: str
    person_id: str | None
    roles: frozenset[str]
    query_mode: str | None
    status: str
    status_since: dt.date | None
    formal_employee: bool
    created_at: dt.date
    filed_at: dt.date | None
    password_changed_at: dt.date | None
    password_policy_ok: bool
    password_reused: bool
    changed_at: dt.date | None = None
    direct_user: bool | None = None
    unit: str | None = None

    @property
    def is_query_user(self) -> bool:
        return "query" in self.roles

    def active_on(self, day: dt.date) -> bool:
        """Existing and neither locked nor suspended on ``day`` (issue 15: "active" by ``status``
        and ``status_since``). Locked on a day means not active on that day."""
        if day < self.created_at:
            return False
        if self.status == "active":
            return self.status_since is None or day >= self.status_since
        assert self.status_since is not None  # required for locked/suspended users (read_users)
        return day < self.status_since


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.line} 行{self.column}" if self.column.startswith("（") else f"第 {self.line} 行 {self.column} 列"
        return f"{where}：{self.message}"


class UsersFileError(InspectionInputError):
    """The users file refused: every bad row with its line and column (``problems``)."""

    def __init__(self, source: str, problems: list[RowProblem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"用户文件 {source} 有 {len(problems)} 处错误，未使用：\n{shown}")


@dataclass(frozen=True)
class UsersFile:
    users: tuple[User, ...]
    #: The columns beyond :data:`REQUIRED_COLUMNS` the file has (:data:`CHECK_COLUMNS`,
    #: :data:`OPTIONAL_COLUMNS`): a check that needs one it lacks is not evaluated. A user's value
    #: of an absent column is a placeholder no check reads.
    columns: frozenset[str]
    source: str


def _decode(data: bytes, source: str) -> str:
    text = decode_text(data)
    if text is None:
        raise InspectionInputError(f"{source}：既不是 UTF-8 也不是 GBK 编码，无法读取")
    return text


def os_error_text(exc: OSError) -> str:
    """An operating system's refusal to read a file, in Chinese (its English text is not shown)."""
    if isinstance(exc, FileNotFoundError):
        return "不存在"
    if isinstance(exc, IsADirectoryError):
        return "是一个文件夹，不是文件"
    if isinstance(exc, PermissionError):
        return "无读取权限"
    return f"无法读取（操作系统错误码 {exc.errno}）" if exc.errno is not None else "无法读取"


def csv_error_text(exc: csv.Error) -> str:
    """Python's csv module's English errors, in Chinese."""
    text = str(exc)
    if "field larger than field limit" in text:
        limit = re.search(r"\((\d+)\)", text)
        return f"某一字段过长（超过 {limit.group(1) if limit else csv.field_size_limit()} 个字符），可能是引号未闭合"
    if "new-line character seen in unquoted field" in text:
        return "未加引号的字段中有换行符"
    if "unexpected end of data" in text or "EOF" in text:
        return "文件在引号内结束，引号未闭合"
    return "不是合法的 CSV 格式"


def read_users(path: str | Path) -> UsersFile:
    """The users file at ``path`` (.csv), every row validated, or a Chinese error naming each bad row."""
    path = Path(path)
    if path.suffix.lower() not in {".csv", ".txt"}:
        raise InspectionInputError(f"用户文件应为 CSV（.csv），实为 {path.suffix or '（无扩展名）'}：{path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InspectionInputError(f"用户文件 {path} {os_error_text(exc)}") from exc
    return parse_users(_decode(data, str(path)), str(path))


def parse_users(text: str, source: str = "（文本）") -> UsersFile:
    """The users of a CSV text (its header on line 1)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InspectionInputError(f"{source}：文件为空，没有表头") from None
    except csv.Error as exc:
        raise InspectionInputError(f"{source}：第 1 行无法按 CSV 读取（{csv_error_text(exc)}）") from exc
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise InspectionInputError(f"{source}：表头第 1 行列名重复：{'、'.join(repeated)}（每列只能出现一次）")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InspectionInputError(f"{source}：缺少列 {', '.join(missing)}（现有列：{', '.join(header)}）")
    index = {name: i for i, name in enumerate(header)}
    present = frozenset(c for c in CHECK_COLUMNS + OPTIONAL_COLUMNS if c in index)
    users: list[User] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue  # a blank line (often the last one) is no user
            if len(row) > len(header):
                problems.append(RowProblem(line, "（整行）", f"有 {len(row)} 个值，多于表头的 {len(header)} 列"))
                continue
            cells = {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}
            user, found = _user(line, cells, present)
            problems += found
            if user is not None:
                if user.user_id in seen:
                    problems.append(RowProblem(line, "user_id", f"{user.user_id} 与第 {seen[user.user_id]} 行重复"))
                else:
                    seen[user.user_id] = line
                    users.append(user)
    except csv.Error as exc:
        problems.append(RowProblem(line + 1, "（整行）", f"无法按 CSV 读取（{csv_error_text(exc)}）"))
    if problems:
        raise UsersFileError(source, problems)
    if not users:
        # an empty list passes every check: refused, not reported as a clean quarter (review of issue 15, item 10)
        raise InspectionInputError(f"{source}：只有表头，没有任何用户；用户检查需要本机构全部征信系统用户的清单")
    return UsersFile(tuple(users), present, source)


class _Row:
    """One row's cells and the problems found reading them."""

    def __init__(self, line: int, cells: dict[str, str]) -> None:
        self.line, self.cells, self.problems = line, cells, list[RowProblem]()

    def bad(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.line, column, message))

    def text(self, column: str, *, required: bool = True) -> str | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.bad(column, "不能为空")
            return None
        if len(value) > MAX_TEXT_LENGTH:
            self.bad(column, f"长度 {len(value)} 超过 {MAX_TEXT_LENGTH} 个字符")
            return None
        return value

    def choice(self, column: str, allowed: Iterable[str], *, required: bool = True) -> str | None:
        value = self.text(column, required=required)
        if value is None:
            return None
        allowed = tuple(allowed)
        if value.lower() not in allowed:
            self.bad(column, f"{value!r} 不是可选值（{'、'.join(allowed)}）")
            return None
        return value.lower()

    def flag(self, column: str, *, empty: bool | None = None) -> bool | None:
        value = self.cells.get(column, "").lower()
        if not value and empty is not None:
            return empty
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.bad(column, f"{value!r} 不是是/否（true/false、是/否、1/0）" if value else "不能为空（填 是/否）")
        return None

    def date(self, column: str, *, required: bool = False) -> dt.date | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.bad(column, "不能为空")
            return None
        try:
            if _DATE.match(value):
                return dt.date.fromisoformat(value)
            if _INSTANT.match(value):
                instant = dt.datetime.fromisoformat(value.replace(",", ".").replace(" ", "T", 1))
                if instant.tzinfo is None:
                    return instant.date()  # Beijing wall-clock time
                return instant.astimezone(SHANGHAI).date()
        except ValueError:
            pass
        self.bad(column, f"{value!r} 不是日期（应为 YYYY-MM-DD 或 ISO 8601 时间）")
        return None


def _user(line: int, cells: dict[str, str], present: frozenset[str]) -> tuple[User | None, list[RowProblem]]:
    r = _Row(line, cells)
    user_id = r.text("user_id")
    person_id = r.text("person_id", required=False)  # an absent column reads as empty: public_user not evaluated
    roles: set[str] = set()
    raw_roles = r.text("roles")
    if raw_roles is not None:
        parts = [p.strip().lower() for p in _ROLE_SEPARATORS.split(raw_roles) if p.strip()]
        unknown = [p for p in parts if p not in ROLES]
        if unknown:
            r.bad("roles", f"未知角色 {'、'.join(unknown)}（可选 {'、'.join(ROLES)}，以逗号分隔）")
        roles = {p for p in parts if p in ROLES}
    mode = r.choice("query_mode", MODES, required=False)
    if "query" in roles and mode is None and not cells.get("query_mode"):
        r.bad("query_mode", "查询用户（roles 含 query）须填写 centralised 或 distributed")
    status = r.choice("status", STATUSES)
    since = r.date("status_since")
    if status in ("locked", "suspended") and since is None and not cells.get("status_since"):
        r.bad("status_since", f"状态为 {status} 的用户须填写状态起始日期")
    formal = r.flag("formal_employee") if "formal_employee" in present else True
    created = r.date("created_at", required=True)
    filed = r.date("filed_at")
    password_changed = r.date("password_changed_at")
    policy_ok = r.flag("password_policy_ok") if "password_policy_ok" in present else True
    reused = r.flag("password_reused") if "password_reused" in present else False
    changed = r.date("changed_at") if "changed_at" in present else None
    direct = r.flag("direct_user", empty=False) if "direct_user" in present else None
    unit = r.text("unit", required=False) if "unit" in present else None
    if r.problems or user_id is None or status is None or formal is None or created is None \
            or policy_ok is None or reused is None:
        return None, r.problems
    return User(
        line=line, user_id=user_id, person_id=person_id, roles=frozenset(roles), query_mode=mode, status=status,
        status_since=since, formal_employee=formal, created_at=created, filed_at=filed,
        password_changed_at=password_changed, password_policy_ok=policy_ok, password_reused=reused,
        changed_at=changed, direct_user=direct, unit=unit,
    ), []
