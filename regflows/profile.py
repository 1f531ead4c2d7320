"""The institution profile: who the institution is, which rules apply, who gets told.

One YAML file (``profiles/demo.yaml`` ships as the demo) validated by pydantic. Everything a
procedure needs to know about the institution comes from here, never from code: which of the
five regimes of the digest apply, which reporting units report, who is on call and who deputises,
and the interpretation settings where the regulations leave a choice.

Secrets never live in the profile. A channel URL names them with placeholders that are resolved
at send time: ``{env:NAME}`` (an environment variable) or ``{secret:NAME}`` (a Prefect Secret
block). A literal password or token in a URL is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator, model_validator

from regflows.yamlsource import YamlSource, YamlSourceError

#: The five sources of the digest (../shared/docs/regulations.md, table at the top).
RegimeTag = Literal["TENPAY", "CUSTINFO", "CQ-PLAN", "NFRA", "PBOC-102"]
REGIMES: tuple[str, ...] = ("TENPAY", "CUSTINFO", "CQ-PLAN", "NFRA", "PBOC-102")

InstitutionKind = Literal["bank", "insurer", "payment"]
#: Place as a credit-information access institution (PBOC-102 III(2): head offices report by the
#: 10th, local institutions and branches of national ones by the 6th).
CreditAccess = Literal["national_head_office", "national_branch", "local", "none"]
ChannelKind = Literal["email", "sms", "wecom", "dingtalk", "feishu", "lark", "ntfy", "gotify", "webhook", "outbox"]
#: Departments and groups named by the regulations (CQ-PLAN 第二篇/第四篇; CUSTINFO 8.2).
RoleKind = Literal[
    "information_management",  # 信息管理部门 (CUSTINFO 8.2: receives the 2-hour internal report)
    "division",  # 业务处室 / 主管处室 (CQ-PLAN: issues yellow/blue warnings, leads III/IV)
    "development_centre",  # 开发中心 (CQ-PLAN: ends a IV response with the division)
    "emergency_working_group",  # 应急工作组 (CQ-PLAN: orange/red warnings, leads II)
    "leadership_group",  # 网络安全领导小组 (CQ-PLAN: leads I, approves ending it)
    "compliance",  # 合规部门 (receives ledger anchors, calendar warnings)
    "on_call",  # 值班
]
REQUIRED_ROLE_KINDS: tuple[str, ...] = (
    "information_management",
    "division",
    "development_centre",
    "emergency_working_group",
    "leadership_group",
    "compliance",
    "on_call",
)
Grade = Literal["I", "II", "III", "IV"]

PLACEHOLDER = re.compile(r"\{(env|secret):([A-Za-z_][A-Za-z0-9_\-]*)\}")
SECRET_QUERY_KEYS = {"token", "secret", "key", "password", "pass", "pwd", "apikey", "api_key", "access_token", "sign"}
#: The Apprise URL schemes each channel kind may use; a kind that disagrees with its URL is a typo
#: that would route an urgent notice to the wrong kind of channel (SMS rules differ from email's).
SCHEMES_BY_KIND: dict[str, set[str]] = {
    "email": {"mailto", "mailtos"},
    "sms": {"json", "jsons", "form", "forms", "xml", "xmls", "twilio", "sns", "clicksend", "d7sms", "bulksms",
            "smseagle", "smseagles", "msg91", "plivo", "vonage", "nexmo", "sinch", "kavenegar"},
    "wecom": {"wecombot", "wechat"},
    "dingtalk": {"dingtalk"},
    "feishu": {"feishu"},
    "lark": {"lark"},
    "ntfy": {"ntfy", "ntfys"},
    "gotify": {"gotify", "gotifys"},
    "webhook": {"json", "jsons", "form", "forms", "xml", "xmls"},
    "outbox": {"outbox"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Institution(_Strict):
    name: str = Field(min_length=2, description="机构全称")
    region: str = Field(min_length=2, description="所在地区")
    kinds: list[InstitutionKind] = Field(min_length=1, description="机构类型，可多选")
    credit_access: CreditAccess = Field(description="征信接入机构类别")
    cii_operator: bool = Field(description="是否关键信息基础设施运营者 (NFRA 61)")


class ReportingUnit(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="机构代码")
    name: str = Field(min_length=2)
    region: str = Field(min_length=2)
    head_office: bool = False


class Channel(_Strict):
    kind: ChannelKind
    url: str = Field(min_length=3, description="Apprise URL; secrets as {env:NAME} or {secret:NAME}")

    @field_validator("url")
    @classmethod
    def _no_clear_secret(cls, url: str) -> str:
        problem = clear_secret_problem(url)
        if problem:
            raise ValueError(problem)
        return url

    @model_validator(mode="after")
    def _scheme_matches_kind(self) -> "Channel":
        scheme = self.url.split("://", 1)[0].lower()
        allowed = SCHEMES_BY_KIND[self.kind]
        if scheme not in allowed:
            raise ValueError(f"kind: {self.kind} 的地址应以 {'/'.join(sorted(allowed))}:// 开头，实为 {scheme}://")
        return self

    def secret_refs(self) -> list[tuple[str, str]]:
        return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(self.url)]


class Person(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    name: str = Field(min_length=1)
    title: str | None = None
    channels: list[Channel] = Field(min_length=1, description="联系渠道，按优先顺序")


class Role(_Strict):
    kind: RoleKind
    name: str = Field(min_length=2, description="中文名称")
    members: list[str] = Field(min_length=1)
    escalation: list[str] = Field(default_factory=list, description="升级顺序；为空时按 members 顺序")
    deputy: str | None = Field(default=None, description="投递失败或升级链结束时的替补")

    def chain(self) -> list[str]:
        return list(self.escalation or self.members)


class ContactInfo(_Strict):
    """A staff contact printed in reports to regulators and notices to customers (TENPAY 4(3), 4(4), 10)."""

    name: str = Field(min_length=1)
    phone: str = Field(min_length=3)
    email: str | None = None
    title: str | None = None


class InstitutionContacts(_Strict):
    reporter: ContactInfo | None = Field(default=None, description="事件报告联系人（NFRA 45）")
    pfi_lead: ContactInfo | None = Field(default=None, description="个人金融信息保护负责人（TENPAY 4(4), 10）")
    pfi_office: ContactInfo | None = Field(default=None, description="个人金融信息保护工作机构（TENPAY 4(4), 10）")


class Settings(_Strict):
    """Interpretation settings: each is a choice the regulations leave open (see README)."""

    deadline_roll_forward: bool = Field(
        default=True,
        description="按日计算的期限末日为休息日时顺延至下一工作日（民法典 第二百零三条）",
    )
    ack_wait_minutes: dict[Grade, float] = Field(
        default_factory=lambda: {"I": 5, "II": 10, "III": 15, "IV": 30},
        description="未确认多久后沿升级链升级，按事件级别（无级别的通知按 IV）",
    )
    renotify_every_minutes: float = Field(
        default=30, gt=0, description="已确认但到期未处理完毕时，每隔多久再次提醒"
    )
    sms_per_minute: float = Field(
        default=30, gt=0, description="短信发送速率上限（Prefect 全局并发限制 regflows-sms）"
    )
    calendar_warn_from: str = Field(
        default="11-01", pattern=r"^\d{2}-\d{2}$", description="每年从该日起提醒下一年度节假日安排未载入"
    )
    calendar_horizon_days: int = Field(default=60, ge=1, le=366, description="日历覆盖检查的前瞻天数")
    immediate_report_minutes: float = Field(
        default=60, gt=0, description="“立即”报告按发现后多少分钟计（TENPAY 5；PBOC-102 三（二））"
    )
    due_soon_minutes: float = Field(default=30, gt=0, description="到期前多少分钟视为“即将到期”")
    # 异常查询 monitoring thresholds (PBOC-102 二（四）; attachment 3 item 13 per-user daily 150-250).
    credit_work_start: str = Field(default="08:30:00", pattern=r"^\d{2}:\d{2}:\d{2}$", description="工作日查询时段起（含）")
    credit_work_end: str = Field(default="18:00:00", pattern=r"^\d{2}:\d{2}:\d{2}$", description="工作日查询时段止（含）")
    credit_daily_query_limit: int = Field(default=250, ge=1, description="单一用户单日查询量上限，超出部分为异常")
    credit_repeat_subject_limit: int = Field(default=3, ge=1, description="同一机构 30 日内查询同一主体的次数上限，此后每次为异常")
    credit_repeat_window_days: int = Field(default=30, ge=1, description="重复查询的滚动窗口（天）")
    credit_reason_codes: list[str] = Field(
        default_factory=lambda: ["01", "02", "03", "08", "16", "19", "20", "21", "22", "23", "24", "25", "26"],
        description="个人征信查询原因代码集合（二代 PH010Q03；须与本机构实际使用的代码核对）",
    )
    credit_enterprise_reason_codes: list[str] = Field(
        default_factory=lambda: ["01", "02", "03", "04", "05", "17", "18"],
        description="企业征信查询原因代码集合（二代 EA01BD02；同一代码含义与个人不同）",
    )
    reminder_minutes_before: list[int] = Field(
        default_factory=lambda: [30, 10], description="义务到期前多少分钟提醒；到期时未履行即上报"
    )
    # 填表人、复核人、签发人 of the monthly table (PBOC-102 附件2): three different people of this
    # profile; the run records the preparer, the other two approve through personal signed links.
    credit_preparer: str | None = Field(default=None, description="统计表填表人（人员编号）；运行时可用 preparer 参数指定")
    credit_review_role: str = Field(default="compliance", description="复核人所在角色（角色键或 kind）；填表人本人不能复核")
    credit_signoff_role: str = Field(
        default="leadership_group", description="签发人所在角色（角色键或 kind）；填表人、复核人本人不能签发"
    )
    credit_signoff_link_days: int = Field(default=14, ge=1, le=60, description="复核、签发链接的有效天数；过期未处理时重新发送")


class Profile(_Strict):
    institution: Institution
    reporting_units: list[ReportingUnit] = Field(min_length=1)
    regimes: dict[RegimeTag, bool]
    people: list[Person] = Field(min_length=1)
    roles: dict[str, Role]
    public_base_url: HttpUrl = Field(description="通知中链接指向的公开地址")
    contacts: InstitutionContacts = Field(default_factory=InstitutionContacts, description="报告与告知书中的联系人")
    settings: Settings = Field(default_factory=Settings)

    @field_validator("regimes")
    @classmethod
    def _all_regimes(cls, value: dict[str, bool]) -> dict[str, bool]:
        missing = [r for r in REGIMES if r not in value]
        if missing:
            raise ValueError(f"必须为每个监管来源写明 true/false，缺少：{', '.join(missing)}")
        return value

    def person(self, person_id: str) -> Person:
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(person_id)

    def roles_of_kind(self, kind: str) -> dict[str, Role]:
        return {key: role for key, role in self.roles.items() if role.kind == kind}

    def regime_on(self, tag: str) -> bool:
        return bool(self.regimes.get(tag, False))  # type: ignore[call-overload]

    @property
    def head_office(self) -> ReportingUnit:
        return next((u for u in self.reporting_units if u.head_office), self.reporting_units[0])


def clear_secret_problem(url: str) -> str | None:
    """Why a channel URL would leak a secret, or None when every secret is a placeholder."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"URL 无法解析：{exc}"
    if not parts.scheme:
        return "URL 缺少协议前缀（如 mailto://、json://）"
    if parts.password and not PLACEHOLDER.fullmatch(parts.password):
        return "URL 中含明文密码：请改为 {env:变量名} 或 {secret:Secret块名}"
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key.lower() in SECRET_QUERY_KEYS and value and not PLACEHOLDER.fullmatch(value):
            return f"URL 参数 {key} 为明文密钥：请改为 {{env:变量名}} 或 {{secret:Secret块名}}"
    kind = parts.scheme.rstrip("s")
    if kind in {"dingtalk", "wecombot", "feishu", "lark", "gotify"} and not PLACEHOLDER.search(url):
        return f"{parts.scheme}:// 的地址本身就是密钥：请用 {{env:变量名}} 或 {{secret:Secret块名}} 引用"
    return None


class ProfileError(ValueError):
    """A profile that cannot be used; ``problems`` lists ``file:line field: message`` lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"机构配置 {path} 有 {len(problems)} 处错误：\n" + "\n".join(f"  - {p}" for p in problems))


def _cross_references(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks that span several fields: references to people, required roles, unique ids."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    ids = [p.id for p in profile.people]
    for i, pid in enumerate(ids):
        if ids.index(pid) != i:
            problems.append((("people", i, "id"), f"人员编号 {pid} 重复"))
    known = set(ids)
    for key, role in profile.roles.items():
        for field in ("members", "escalation"):
            for j, pid in enumerate(getattr(role, field)):
                if pid not in known:
                    problems.append((("roles", key, field, j), f"未定义的人员 {pid}（须在 people 中列出并填写联系渠道）"))
        if role.deputy is not None and role.deputy not in known:
            problems.append((("roles", key, "deputy"), f"未定义的替补人员 {role.deputy}"))
    present = {role.kind for role in profile.roles.values()}
    for kind in REQUIRED_ROLE_KINDS:
        if kind not in present:
            problems.append((("roles",), f"缺少 kind: {kind} 的部门或角色"))
    codes = [u.code for u in profile.reporting_units]
    for i, code in enumerate(codes):
        if codes.index(code) != i:
            problems.append((("reporting_units", i, "code"), f"机构代码 {code} 重复"))
    if sum(u.head_office for u in profile.reporting_units) > 1:
        problems.append((("reporting_units",), "只能有一个 head_office: true"))
    if profile.institution.credit_access != "none" and not profile.regime_on("PBOC-102"):
        problems.append((("regimes", "PBOC-102"), "征信接入机构须启用 PBOC-102（银发〔2018〕102号）"))
    settings = profile.settings
    if settings.credit_preparer is not None and settings.credit_preparer not in known:
        problems.append((("settings", "credit_preparer"), f"未定义的人员 {settings.credit_preparer}"))
    kinds = {role.kind for role in profile.roles.values()}
    for field in ("credit_review_role", "credit_signoff_role"):
        wanted = getattr(settings, field)
        if profile.institution.credit_access != "none" and wanted not in profile.roles and wanted not in kinds:
            problems.append((("settings", field), f"没有角色 {wanted}（填角色键或 kind）"))
    return problems


def _loc_message(error: dict) -> tuple[tuple[str | int, ...], str]:
    loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    msg = error["msg"]
    if error["type"] == "missing":
        msg = "缺少必填项"
    elif error["type"] == "extra_forbidden":
        msg = "未知字段（拼写错误？）"
    elif error["type"] == "literal_error":
        msg = f"取值无效 {error.get('input')!r}：{msg}"
    return loc, msg


def load_profile(path: str | Path) -> Profile:
    """Read, validate and cross-check a profile; every problem names its field and line."""
    source_path = Path(path)
    try:
        source = YamlSource.read(source_path)
    except YamlSourceError as exc:
        raise ProfileError(source_path, [str(exc)]) from exc
    if not isinstance(source.data, dict):
        raise ProfileError(source_path, [f"{source_path}:1 顶层必须是键值映射"])
    try:
        profile = Profile.model_validate(source.data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc, msg = _loc_message(dict(error))
            if loc and loc[0] == "regimes" and error["type"] == "literal_error":
                msg = f"未知的监管来源 {loc[-1] if len(loc) > 1 else ''}（可选：{', '.join(REGIMES)}）"
            problems.append(f"{source.where(loc)}: {msg}")
        raise ProfileError(source_path, problems) from exc
    cross = _cross_references(profile)
    if cross:
        raise ProfileError(source_path, [f"{source.where(loc)}: {msg}" for loc, msg in cross])
    return profile


DEMO_PROFILE = Path(__file__).resolve().parent.parent / "profiles" / "demo.yaml"


def profile_path() -> Path:
    """The profile in use: REGFLOWS_PROFILE, else the demo profile shipped in the repo."""
    return Path(os.environ.get("REGFLOWS_PROFILE") or DEMO_PROFILE)
