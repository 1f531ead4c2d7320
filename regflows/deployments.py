"""prefect.yaml is the one list of deployments; this module turns it into served deployments.

``regflows up`` serves exactly what prefect.yaml declares: entrypoint, description, tags,
parameters, schedules and concurrency limits (the watches run every minute or hour and must not
overlap themselves: ``concurrency_limit: {limit: 1, collision_strategy: CANCEL_NEW}`` makes the
server cancel a run that would start while the previous one still runs; the next one catches up). Plain schedules (cron, interval, rrule) pass through unchanged.
Working-day schedules are declared in ``definitions.working_day_schedules`` (keyed by deployment
name, in the free-form section Prefect reserves for such use) and turned into RRule sets of the
real run days by :mod:`calendars.schedules` at registration time; the calendar watch keeps them
fresh. See README, "Working-day schedules", for why this mechanism.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
import typing
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from calendars.official import WorkingDayCalendar, default_calendar
from calendars.schedules import TIMEZONE, WorkingDaySchedule
from regflows.kit.errors import describe
from regflows.kit.rulefiles import read_yaml

if TYPE_CHECKING:
    from regflows.profile import Profile

# Prefect is imported inside schedules_for and to_runner_deployments (lazy): `regflows calendar
# schedules` reads prefect.yaml through this module without Prefect (~2 s to import, measured), and
# `regflows up` imports this module before it points Prefect at its server (Prefect reads its
# settings when imported).


class DeploymentFileError(ValueError):
    pass


@dataclass
class DeploymentSpec:
    """One deployment as prefect.yaml declares it."""

    name: str
    entrypoint: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    working_days: list[WorkingDaySchedule] = field(default_factory=list)
    concurrency: ConcurrencyLimit | None = None


#: Prefect's collision strategies: wait for the running one to finish, or cancel the new run.
COLLISION_STRATEGIES = ("ENQUEUE", "CANCEL_NEW")


@dataclass(frozen=True)
class ConcurrencyLimit:
    """How many runs of a deployment may run at once, and what happens to one more."""

    limit: int
    collision_strategy: str = "ENQUEUE"
    #: Seconds a run may take from Pending to Running before its slot is taken back (Prefect's
    #: ``grace_period_seconds``; None: the server's 300 s). The watches say 60: a tick left
    #: Pending by a killed worker would otherwise hold its watch's one slot for five minutes,
    #: every later tick cancelled meanwhile (review of issue 19, item 6).
    grace_period_seconds: int | None = None


def _concurrency(raw: Any, where: str) -> ConcurrencyLimit | None:
    """prefect.yaml's ``concurrency_limit``: a number, or ``{limit, collision_strategy, grace_period_seconds}`` (Prefect's own form)."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        limit, strategy, grace = raw.get("limit"), raw.get("collision_strategy", "ENQUEUE"), raw.get("grace_period_seconds")
        unknown = set(raw) - {"limit", "collision_strategy", "grace_period_seconds"}
        if unknown:
            raise DeploymentFileError(f"{where}: 不支持的键 {', '.join(sorted(unknown))}（可用 limit、collision_strategy、grace_period_seconds）")
    else:
        limit, strategy, grace = raw, "ENQUEUE", None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise DeploymentFileError(f"{where}: 并发上限应为正整数，实为 {limit!r}")
    if strategy not in COLLISION_STRATEGIES:
        raise DeploymentFileError(f"{where}: collision_strategy 应为 {' 或 '.join(COLLISION_STRATEGIES)}，实为 {strategy!r}")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int) or not 60 <= grace <= 86400):
        raise DeploymentFileError(f"{where}: grace_period_seconds 应为 60 至 86400 的整数（Prefect 的范围），实为 {grace!r}")
    return ConcurrencyLimit(limit, strategy, grace)


@dataclass
class ScheduleChoice:
    """A schedule ready for Prefect, with what a person should know about it."""

    kind: str  # cron | interval | rrule | working_days
    prefect_schedule: Any | None
    description: str
    last_run_day: dt.date | None = None  # working-day schedules: where the calendar data ends


def read_prefect_yaml(path: Path) -> list[DeploymentSpec]:
    # Prefect's own format shares definitions with anchors (regflows/kit/rulefiles.py says why
    # this file alone may use them).
    source = read_yaml(path, "部署文件", aliases=True)
    data = source.data or {}
    wd_all = ((data.get("definitions") or {}).get("working_day_schedules")) or {}
    specs: list[DeploymentSpec] = []
    names = set()
    for i, raw in enumerate(data.get("deployments") or []):
        try:
            name, entrypoint = raw["name"], raw["entrypoint"]
        except (KeyError, TypeError) as exc:
            raise DeploymentFileError(f"{source.where(('deployments', i))}: 缺少 name 或 entrypoint") from exc
        if name in names:
            raise DeploymentFileError(f"{source.where(('deployments', i, 'name'))}: 部署名 {name} 重复")
        names.add(name)
        working: list[WorkingDaySchedule] = []
        for j, item in enumerate(wd_all.get(name) or []):
            try:
                working.append(WorkingDaySchedule.model_validate(item))
            except ValidationError as exc:
                where = source.where(("definitions", "working_day_schedules", name, j))
                raise DeploymentFileError(f"{where}：{'；'.join(describe(exc, model=WorkingDaySchedule))}") from exc
        specs.append(
            DeploymentSpec(
                name=name,
                entrypoint=entrypoint,
                description=raw.get("description") or "",
                tags=list(raw.get("tags") or []),
                parameters=dict(raw.get("parameters") or {}),
                schedules=list(raw.get("schedules") or []),
                working_days=working,
                concurrency=_concurrency(raw.get("concurrency_limit"), source.where(("deployments", i, "concurrency_limit"))),
            )
        )
    unknown = set(wd_all) - names
    if unknown:
        raise DeploymentFileError(f"{path}: working_day_schedules 指向不存在的部署：{', '.join(sorted(unknown))}")
    return specs


def schedules_for(spec: DeploymentSpec, today: dt.date, calendar: WorkingDayCalendar | None = None) -> list[ScheduleChoice]:
    """Prefect schedule objects for a deployment, working-day ones computed from ``today``."""
    from prefect.schedules import Cron, Interval, RRule

    out: list[ScheduleChoice] = []
    for raw in spec.schedules:
        tz = raw.get("timezone", TIMEZONE)
        if "cron" in raw:
            out.append(ScheduleChoice("cron", Cron(raw["cron"], timezone=tz), f"cron {raw['cron']} ({tz})"))
        elif "interval" in raw:
            out.append(ScheduleChoice("interval", Interval(raw["interval"], timezone=tz), f"每 {raw['interval']} 秒"))
        elif "rrule" in raw:
            out.append(ScheduleChoice("rrule", RRule(raw["rrule"], timezone=tz), "rrule"))
        else:
            raise DeploymentFileError(f"{spec.name}: 不支持的 schedule：{raw}")
    cal = calendar or default_calendar()
    for wd in spec.working_days:
        rule, last = wd.rrule(today, cal)
        schedule = RRule(rule, timezone=TIMEZONE, slug=wd.slug) if rule else None
        out.append(ScheduleChoice("working_days", schedule, wd.describe(), last))
    return out


#: A parameter's ``json_schema_extra`` key: its choices are the profile's people (``"people"``),
#: filled in at registration, plus the fixed labels under :data:`EXTRA_CHOICES` (system actors),
#: or its reporting units (``"units"``, the head office first and by default).
CHOICES_KEY = "x-regflows-choices"
EXTRA_CHOICES = "x-regflows-extra-choices"


def _nodes(node: Any) -> typing.Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _required_first(schema: dict[str, Any]) -> None:
    """Renumber the parameters' ``position`` (the order Prefect's UI draws them in) so that a
    required parameter of one value comes before a nested form, and both before what is optional
    (review of issue 14, 14: 「申报人」 was drawn after the incident form's ~25 optional fields).
    Stable otherwise; a nested form keeps its own fields' order (its required ones first)."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])

    def rank(name: str) -> tuple[int, int]:
        prop = properties[name]
        nested = "$ref" in prop or any("$ref" in option for option in prop.get("allOf") or [])
        return (0 if name in required and not nested else 1 if name in required else 2, prop.get("position", 0))

    for position, name in enumerate(sorted(properties, key=rank)):
        properties[name]["position"] = position


def finish_parameter_schema(fn: Any, schema: dict[str, Any], profile: Profile | None) -> dict[str, Any]:
    """The form Prefect's UI draws from ``schema`` (changed in place), made readable (issue 14, 5).

    Prefect titles each parameter by its Python name and ignores ``Annotated[..., Field(title=…)]``:
    the Chinese title and help of that ``Field`` are put back here. A parameter marked
    ``json_schema_extra={CHOICES_KEY: "people"}`` becomes a choice among the profile's people,
    labelled with their names (``李明（li.ming）``; the flow maps a label back to the id with
    :func:`regflows.kit.forms.choice_code`); for a list, each item is such a choice. ``"units"``:
    a choice among the reporting units (``成都分行（YX0101）``), the default the first choice.
    ``EXTRA_CHOICES`` adds choices that are no person or unit (a system declarer; 「全部报送单位」,
    listed first), which the flow reads itself.
    """
    hints = typing.get_type_hints(fn, include_extras=True)
    for name, prop in (schema.get("properties") or {}).items():
        info = next((m for m in getattr(hints.get(name), "__metadata__", ()) if isinstance(m, FieldInfo)), None)
        if info is not None:
            if info.title:
                prop["title"] = info.title
            if info.description:
                prop["description"] = info.description
    _required_first(schema)
    for node in list(_nodes(schema)):
        if node.get(CHOICES_KEY) == "people" and profile is not None:
            labels = list(profile.people_choices().values()) + list(node.get(EXTRA_CHOICES) or [])
            target = node.setdefault("items", {"type": "string"}) if node.get("type") == "array" else node
            target["enum"] = labels
        elif node.get(CHOICES_KEY) == "units" and profile is not None:
            # The extra choices first (credit-stats: 「全部报送单位」), else the head office: what an empty value meant.
            labels = list(node.get(EXTRA_CHOICES) or []) + list(profile.unit_choices().values())
            node["enum"], node["default"] = labels, labels[0]
    return schema


def to_runner_deployments(specs: list[DeploymentSpec], root: Path, today: dt.date,
                          profile: Profile | None = None) -> tuple[list[Any], list[str]]:
    """RunnerDeployments for ``serve``, and the warnings a person must see (schedules run out).

    ``profile``: whose people the person choices of the forms list (:func:`finish_parameter_schema`)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.flows import Flow, load_flow_from_entrypoint

    deployments, warnings = [], []
    for spec in specs:
        path, _, func = spec.entrypoint.partition(":")
        flow: Flow[..., Any] = load_flow_from_entrypoint(f"{root / path}:{func}")
        choices = schedules_for(spec, today)
        for choice in choices:
            if choice.kind == "working_days" and choice.prefect_schedule is None:
                warnings.append(f"部署 {spec.name} 的“{choice.description}”已无可用日期：日历数据未覆盖今后的日期")
        deployments.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description or None,
                tags=spec.tags,
                parameters=spec.parameters,
                schedules=[c.prefect_schedule for c in choices if c.prefect_schedule is not None],
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=spec.concurrency.limit, collision_strategy=ConcurrencyLimitStrategy(spec.concurrency.collision_strategy),
                    grace_period_seconds=spec.concurrency.grace_period_seconds,
                ) if spec.concurrency else None,
            )
        )
        schema = deployments[-1]._parameter_openapi_schema
        finished = finish_parameter_schema(flow.fn, {"properties": schema.properties, "definitions": schema.definitions,
                                                     "required": schema.required}, profile)
        schema.properties, schema.definitions = finished["properties"], finished["definitions"]
    return deployments, warnings
