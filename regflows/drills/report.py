"""The drill report (issue 17, item 5): the plan, the timeline, the measurements, the problems and
the improvements, as a .docx beside ``measurements.json``, written as one set.

The report is an internal document about an exercise: it carries 【演练】 like every drill
material, and it says that the drill is to be reported to the city cyberspace office where
CQ-PLAN applies (CQ-PLAN 第六篇二: 演练情况报市委网信办); regflows never files it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from calendars.zone import SHANGHAI
from notices.templates import channel_label
from regflows.drills.measure import gaps
from regflows.drills.plan import ACTION_NAMES, KIND_TITLES, SIDE_NAMES
from regflows.kit.documents import OfficialDocument
from regflows.kit.files import write_atomically
from regflows.profile import Profile

__all__ = ["CYBERSPACE_REMINDER", "MEASUREMENTS_FILE", "contract", "overview", "report_name", "write_report"]

MEASUREMENTS_FILE = "measurements.json"
#: CQ-PLAN 第六篇二: the drill is reported to the city cyberspace office.
CYBERSPACE_REMINDER = "请将本次演练情况报送市委网信办（CQ-PLAN 第六篇二），报送后以 regflows drill fulfil 登记证据。"


def report_name(drill_id: str) -> str:
    return f"drill-report-{drill_id}.docx"


def contract(measured: Mapping[str, Any]) -> dict[str, Any]:
    """``measurements.json`` in the issue's shape, each entry keeping its extra keys (notice, state, met, evidence)."""
    return {
        "drill_id": measured["drill_id"],
        "plan_id": measured["plan_id"],
        "rehearsal": measured["rehearsal"],
        "finished": measured.get("finished", True),
        "interrupted": measured.get("interrupted", False),
        "acks": measured["acks"],
        "escalations": measured["escalations"],
        "obligations": measured["obligations"],
        "channels": measured["channels"],
        "injects": measured["injects"],
        "gaps": gaps(measured),
    }


def _local(text: str | None, *, short: bool = False) -> str:
    """An instant in Beijing time; ``short`` without the year (the timeline's narrow columns)."""
    pattern = "%m-%d %H:%M:%S" if short else "%Y-%m-%d %H:%M:%S"
    return dt.datetime.fromisoformat(text).astimezone(SHANGHAI).strftime(pattern) if text else "—"


def _role_names(keys: str, profile: Profile) -> str:
    """``on_call、compliance`` (measurements.json's role keys) as the profile names the roles."""
    return "、".join(profile.roles[k].name if k in profile.roles else k for k in keys.split("、"))


def _obligation_result(o: Mapping[str, Any]) -> str:
    if o["met"] is True:
        return "按时完成"
    if o["met"] is False:
        return f"未按时完成（{o['state']}）"
    return "已撤销，不再需要" if o["state"] == "withdrawn" else "尚未到期，待完成（不计为问题）"


def overview(measured: Mapping[str, Any], started: Mapping[str, Any], profile: Profile) -> list[tuple[str, str]]:
    """The report's 演练概况 rows, from the plan's overview the run recorded (``drill.started``)."""
    plan = started.get("plan") or {}
    names = {p.id: p.name for p in profile.people}
    participants = "、".join(
        f"{names.get(p['person'], p['person'])}（{SIDE_NAMES.get(p['side'], p['side'])}）" for p in plan.get("participants", [])
    )
    return [
        ("演练名称", str(plan.get("title", "—"))),
        ("演练方案", f"{plan.get('plan_id', measured['plan_id'])}" + ("（未经批准，预演）" if measured["rehearsal"] else "（已批准）")),
        ("演练类型", KIND_TITLES.get(str(plan.get("kind", started.get("kind"))), "应急演练")),
        ("演练事件", str(plan.get("event_title", "—"))),
        ("开始时间", _local(started.get("started"))),
        ("时间线倍速", f"{started.get('speed', 1):g}"),
        ("参演人员", participants or "—"),
        ("依据", str(plan.get("clause", "—"))),
    ]


def write_report(
    measured: Mapping[str, Any], started: Mapping[str, Any], profile: Profile, folder: Path, stamp: dt.datetime
) -> dict[str, Path]:
    """``measurements.json`` and the report .docx into ``folder`` (a staging folder: the caller
    publishes the set)."""
    data = contract(measured)
    write_atomically(folder / MEASUREMENTS_FILE, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    plan = started.get("plan") or {}
    names = {p.id: p.name for p in profile.people}
    doc = OfficialDocument(
        f"{plan.get('title', '应急演练')}报告",
        stamp=stamp,
        drill=True,
        header=f"{profile.institution.name}　演练报告",
        subtitle=f"演练编号：{measured['drill_id']}" + ("（预演）" if measured["rehearsal"] else ""),
    )
    doc.heading("一、演练概况")
    doc.table(overview(measured, started, profile), (40, 116))
    doc.heading("二、时间线")
    rows: list[tuple[str, ...]] = [("计划时间", "实际时间", "注入", "预期", "结果")]
    for i in measured["injects"]:
        result = {True: "达到预期", False: "未达预期", None: "无法判断"}[i["met"]]
        outcome = f"{result}：{i['evidence']}" if i.get("fired", True) else "未触发"
        rows.append((_local(i["at"], short=True), _local(i["actual"], short=True), ACTION_NAMES.get(i["action"], i["action"]), i["expected"], outcome))
    doc.table(rows, (30, 30, 22, 36, 38), label_column=False, header=True)
    if measured.get("interrupted"):
        doc.paragraph("本次演练未完成：运行中断，没有演练结束记录；标为“未触发”的注入未能检验。")
    elif not measured.get("finished", True):
        doc.paragraph("本次演练尚在进行（没有演练结束记录）：本报告为中途测量，标为“未触发”的注入尚未到时间。")
    doc.heading("三、测量结果")
    doc.paragraph("（一）确认用时（自通知发出至本人确认，秒）。")
    doc.table(
        [
            ("人员", "角色", "用时（秒）"),
            *((names.get(a["person"], a["person"]), _role_names(a["role"], profile), f"{a['seconds']:g}") for a in measured["acks"]),
        ]
        if measured["acks"]
        else [("—", "无人确认", "—")],
        (56, 60, 40),
        label_column=False,
        header=bool(measured["acks"]),
    )
    doc.paragraph("（二）升级与义务。")
    doc.table(
        [
            ("义务", "期限", "结果"),
            *(
                (o["title"], _local(o["due"]) if o["due"] else "无固定期限", _obligation_result(o))
                for o in measured["obligations"]
            ),
        ],
        (76, 40, 40),
        label_column=False,
        header=True,
    )
    doc.paragraph(
        "（三）通知渠道。"
        + (
            "；".join(
                f"{names.get(c['person'], c['person'])}的{channel_label(c['channel'])}渠道故障，" + ("经备用渠道送达" if c["fallback_reached"] else "未经备用渠道送达")
                for c in measured["channels"]
            )
            or "未发生渠道故障。"
        )
    )
    problems = data["gaps"]
    doc.heading("四、发现的问题")
    for n, g in enumerate(problems, start=1):
        doc.paragraph(f"{n}. {g['problem']}")
    if not problems:
        doc.paragraph("未发现问题。")
    doc.heading("五、改进措施")
    for n, g in enumerate(problems, start=1):
        doc.paragraph(f"{n}. {g['improvement']}")
    if not problems:
        doc.paragraph("保持现有流程，下次演练复测。")
    if profile.regime_on("CQ-PLAN"):
        doc.paragraph(CYBERSPACE_REMINDER)
    path = doc.save(
        folder / report_name(measured["drill_id"]),
        subject=str(plan.get("event_title", "")),
        keywords=f"演练报告 {measured['drill_id']}",
        category="演练报告",
    )
    return {"measurements": folder / MEASUREMENTS_FILE, "report": path}
