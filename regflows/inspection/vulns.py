"""The quarter's vulnerability analysis from the vulnerability register (issue 15, item 4; NFRA 23).

NFRA 23 asks for a quarterly analysis of how vulnerabilities were handled. The register is a CSV
(UTF-8, with or without BOM, or GBK; read UTF-8 first, then GB18030, as the users file):
``id``, ``severity``, ``found``, ``due``, ``fixed`` (empty while open). Dates are
``YYYY-MM-DD`` (Beijing days); a date that could be read two ways is refused, never guessed.
Like the users file, one bad row refuses the whole register, every problem listed with its line
(the header is line 1) and column: figures over a register with a row missing would look whole.

The quarter's figures, at its last day: the open ones by severity (found by then, not fixed by
then), the overdue ones among them (due before the quarter's last day), those fixed in the
quarter after their due day, and the mean time to fix (calendar days from ``found`` to ``fixed``)
of those fixed in the quarter (None when none was: not 0).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from regflows.kit.files import decode_text
from regflows.inspection.models import InspectionInputError, Quarter

__all__ = ["COLUMNS", "SEVERITIES", "Vulnerability", "VulnsError", "VulnsFigures", "bar", "chart_markdown", "chart_rows",
           "figures", "parse_vulns", "read_vulns"]

COLUMNS: tuple[str, ...] = ("id", "severity", "found", "due", "fixed")
#: The severities, gravest first, with the words a register may use for each.
SEVERITIES: dict[str, str] = {"critical": "严重", "high": "高危", "medium": "中危", "low": "低危"}
_SEVERITY_WORDS = {**{k: k for k in SEVERITIES}, **{v: k for k, v in SEVERITIES.items()},
                   "严重": "critical", "高": "high", "中": "medium", "低": "low", "超危": "critical"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BAR_WIDTH = 30


class VulnsError(InspectionInputError):
    """The register cannot be used; ``problems`` are Chinese lines naming row and column."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"漏洞台账 {source} 有 {len(problems)} 处问题：\n" + "\n".join(problems))


@dataclass(frozen=True)
class Vulnerability:
    line: int
    id: str
    severity: str  # a key of SEVERITIES
    found: dt.date
    due: dt.date
    fixed: dt.date | None

    def open_on(self, day: dt.date) -> bool:
        return self.found <= day and (self.fixed is None or self.fixed > day)


def _decode(data: bytes, source: str) -> str:
    text = decode_text(data)
    if text is None:
        raise VulnsError(source, ["既不是 UTF-8 也不是 GBK 编码，无法读取"])
    return text


def read_vulns(path: str | Path) -> list[Vulnerability]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        from regflows.inspection.users import os_error_text
        raise VulnsError(str(path), [f"文件{os_error_text(exc)}"]) from exc
    return parse_vulns(_decode(data, str(path)), str(path))


def _date(text: str, line: int, column: str, problems: list[str], required: bool) -> dt.date | None:
    if not text:
        if required:
            problems.append(f"第 {line} 行「{column}」：不能为空")
        return None
    if not _DATE.match(text):
        problems.append(f"第 {line} 行「{column}」：{text!r} 不是 YYYY-MM-DD 格式的日期")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.append(f"第 {line} 行「{column}」：{text!r} 不是有效日期")
        return None


def parse_vulns(text: str, source: str = "（文本）") -> list[Vulnerability]:
    """Every row typed, or :class:`VulnsError` listing every problem (a row Python's csv reader
    cannot read is named with its line, in Chinese)."""
    reader = csv.reader(io.StringIO(text))
    try:
        return _parse(reader, source)
    except csv.Error as exc:
        from regflows.inspection.users import csv_error_text
        raise VulnsError(source, [f"第 {max(reader.line_num, 1)} 行：无法按 CSV 读取（{csv_error_text(exc)}）"]) from exc


def _parse(reader: Any, source: str) -> list[Vulnerability]:
    header = next(reader, None)
    if header is None:
        raise VulnsError(source, ["文件为空，没有表头"])
    names = [h.strip().lower() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1 and n})
    missing = [c for c in COLUMNS if c not in names]
    head = ([f"第 1 行：缺少列 {', '.join(missing)}"] if missing else []) + \
        ([f"第 1 行：列名重复 {', '.join(repeated)}"] if repeated else [])
    if head:
        raise VulnsError(source, head)
    problems: list[str] = []
    out: list[Vulnerability] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {n: (row[i].strip() if i < len(row) else "") for i, n in enumerate(names)}
        before = len(problems)
        vid = cells["id"]
        if not vid:
            problems.append(f"第 {line} 行「id」：不能为空")
        elif vid in seen:
            problems.append(f"第 {line} 行「id」：{vid} 与第 {seen[vid]} 行重复")
        else:
            seen[vid] = line
        severity = _SEVERITY_WORDS.get(cells["severity"].lower() if cells["severity"].isascii() else cells["severity"])
        if severity is None:
            problems.append(f"第 {line} 行「severity」：{cells['severity']!r} 不是可识别的等级"
                            f"（{'、'.join(f'{k}/{v}' for k, v in SEVERITIES.items())}）")
        found = _date(cells["found"], line, "found", problems, True)
        due = _date(cells["due"], line, "due", problems, True)
        fixed = _date(cells["fixed"], line, "fixed", problems, False)
        if found and due and due < found:
            problems.append(f"第 {line} 行「due」：整改期限 {due} 早于发现日 {found}")
        if found and fixed and fixed < found:
            problems.append(f"第 {line} 行「fixed」：修复日 {fixed} 早于发现日 {found}")
        if len(problems) == before and severity and found and due:
            out.append(Vulnerability(line, vid, severity, found, due, fixed))
    if problems:
        raise VulnsError(source, problems)
    return out


@dataclass(frozen=True)
class VulnsFigures:
    """The quarter's figures (NFRA 23), as summary and report show them."""

    quarter: str
    total: int
    found_in_quarter: int
    fixed_in_quarter: int
    open_by_severity: dict[str, int] = field(default_factory=dict)
    overdue: list[str] = field(default_factory=list)  # open at the quarter's end and past due: ids
    fixed_late: list[str] = field(default_factory=list)  # fixed in the quarter after the due day: ids
    mean_days_to_fix: float | None = None

    @property
    def open(self) -> int:
        return sum(self.open_by_severity.values())

    def as_dict(self) -> dict[str, Any]:
        return {"quarter": self.quarter, "total": self.total, "found_in_quarter": self.found_in_quarter,
                "fixed_in_quarter": self.fixed_in_quarter, "open": self.open, "open_by_severity": dict(self.open_by_severity),
                "overdue": len(self.overdue), "overdue_ids": list(self.overdue), "fixed_late": len(self.fixed_late),
                "fixed_late_ids": list(self.fixed_late), "mean_days_to_fix": self.mean_days_to_fix}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VulnsFigures:
        """Back from :meth:`as_dict` (a recorded run's figures, for its report redrafted later)."""
        return cls(quarter=data["quarter"], total=data["total"], found_in_quarter=data["found_in_quarter"],
                   fixed_in_quarter=data["fixed_in_quarter"], open_by_severity=dict(data["open_by_severity"]),
                   overdue=list(data["overdue_ids"]), fixed_late=list(data.get("fixed_late_ids", [])),
                   mean_days_to_fix=data["mean_days_to_fix"])


def figures(vulns: list[Vulnerability], quarter: Quarter) -> VulnsFigures:
    end = quarter.last_day
    open_ = [v for v in vulns if v.open_on(end)]
    fixed = [v for v in vulns if v.fixed is not None and quarter.contains(v.fixed)]
    days = [(v.fixed - v.found).days for v in fixed if v.fixed is not None]
    mean = round(float(Fraction(sum(days), len(days))), 1) if days else None
    return VulnsFigures(
        quarter=quarter.label, total=len(vulns),
        found_in_quarter=sum(1 for v in vulns if quarter.contains(v.found)), fixed_in_quarter=len(fixed),
        open_by_severity={k: sum(1 for v in open_ if v.severity == k) for k in SEVERITIES},
        overdue=[v.id for v in open_ if v.due < end],
        fixed_late=[v.id for v in fixed if v.fixed is not None and v.fixed > v.due],
        mean_days_to_fix=mean)


def bar(value: int, peak: int) -> str:
    """A text bar (as the credit history chart: Prefect's markdown strips images and SVG)."""
    return "█" * max(1 if value else 0, round(value / max(peak, 1) * BAR_WIDTH)) + f" {value}"


def chart_rows(f: VulnsFigures) -> list[tuple[str, str]]:
    peak = max([*f.open_by_severity.values(), 1])
    return [(SEVERITIES[k], bar(n, peak)) for k, n in f.open_by_severity.items()]


def mean_sentence(f: VulnsFigures) -> str:
    """The mean time to fix as a sentence (a quarter without a fix has no mean, never 0)."""
    if f.mean_days_to_fix is None:
        return "本季度没有修复的漏洞，无从计算平均修复时长。"
    return f"平均修复时长 {f.mean_days_to_fix:g} 天。"


def chart_markdown(f: VulnsFigures) -> str:
    """The open vulnerabilities by severity as a table with a text bar per severity."""
    lines = [f"## 漏洞处置情况（{f.quarter}，NFRA 23）", "", "| 等级 | 季末未修复 |", "|---|---|"]
    lines += [f"| {name} | {b} |" for name, b in chart_rows(f)]
    lines += ["", f"逾期未修复 {len(f.overdue)} 个；本季度修复 {f.fixed_in_quarter} 个，其中逾期修复 {len(f.fixed_late)} 个。"
              + mean_sentence(f)]
    return "\n".join(lines) + "\n"
