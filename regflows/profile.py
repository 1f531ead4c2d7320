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

import datetime as dt
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, TypeAdapter, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from regflows.channel_secrets import PLACEHOLDER, clear_secret_problem
from regflows.kit.errors import MessageHook, RuleFileError, place
from regflows.kit.rulefiles import read_yaml
from regflows.settings import Settings

#: The five sources of the digest (docs/regulations.md, table at the top).
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
    "service_provider",  # 专业服务机构 (CQ-PLAN 第二篇二、第四篇三（四）: ends a IV response with the division and the centre)
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
#: The local outbox stands in for any kind of channel (the demo: ``{kind: sms, url:
#: "outbox://li.ming/sms"}``): the notice is then rendered, rate-limited and routed as that kind
#: (an SMS gets the SMS form), only delivered into the store instead of to a provider.
for _schemes in SCHEMES_BY_KIND.values():
    _schemes.add("outbox")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Institution(_Strict):
    name: str = Field(min_length=2, description="机构全称")
    region: str = Field(min_length=2, description="所在地区")
    kinds: list[InstitutionKind] = Field(min_length=1, description="机构类型，可多选")
    credit_access: CreditAccess = Field(description="征信接入机构类别")
    cii_operator: bool = Field(description="是否关键信息基础设施运营者 (NFRA 61)")
    domicile: str | None = Field(
        default=None, min_length=2,
        description="公司主体所在地（住所地），如 重庆市渝中区：个人金融信息安全事件向住所地人民银行分支机构、"
        "向公司主体所在地县级（含）以上公安机关报告 (TENPAY 5, 9)；留空时取 region",
    )
    # PBOC-102 附件3 第九条: 对当年新接入机构不进行考核评级 (regflows/rating/schedule.py).
    credit_connected_on: dt.date | None = Field(
        default=None, description="接入金融信用信息基础数据库的日期（YYYY-MM-DD）：接入当年不进行年度考核评级（PBOC-102 附件3 第九条）；留空为早已接入")

    @property
    def seat(self) -> str:
        """Where the company is domiciled (TENPAY 5 住所地, 9 公司主体所在地): ``domicile``, else ``region``."""
        return self.domicile or self.region


class ReportingUnit(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="机构代码")
    name: str = Field(min_length=2)
    region: str = Field(min_length=2)
    head_office: bool = False
    # PBOC-102 三（二）: branches of a national access institution report to the PBoC branch where
    # they are (by the 6th); 附件3 第二十一条 puts a local institution's out-of-province branches
    # under the PBoC branch of their place too. None: yes for a national institution's branches,
    # no for a local institution's (its head office's table covers them).
    reports_to_local_branch: bool | None = Field(
        default=None, description="是否单独编制统计表并报所在地人民银行分支机构（PBOC-102 三（二）；附件3 第二十一条）")
    # 填表人/复核人/签发人 of this unit's own table (PBOC-102 附件2); unset: the institution's settings.
    credit_preparer: str | None = Field(default=None, description="本单位统计表填表人（人员编号）；留空用 settings.credit_preparer")
    credit_review_role: str | None = Field(default=None, description="本单位复核人所在角色；留空用 settings.credit_review_role")
    credit_signoff_role: str | None = Field(default=None, description="本单位签发人所在角色；留空用 settings.credit_signoff_role")
    # PBOC-102 三（三）: each lead of the quarterly self-inspection is verified by its unit's owner;
    # a unit without one leaves its leads unowned, which the run raises (never silent).
    inspection_owner: str | None = Field(
        default=None, description="季度自查中本单位线索的核实负责人（人员编号；PBOC-102 三（三） 逐笔核实）；留空则该单位的线索无负责人并告警")
    # 三（三）: the quarterly report of a unit that reports on its own is reviewed and approved as the
    # event reports are (三（二）, 附件2); unset: the institution's settings.
    inspection_review_role: str | None = Field(
        default=None, description="本单位自查报告复核人所在角色（单独报送时）；留空用 settings.inspection_review_role")
    inspection_approval_role: str | None = Field(
        default=None, description="本单位自查报告签发人所在角色（单独报送时）；留空用 settings.inspection_approval_role")


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
    public: ContactInfo | None = Field(default=None, description="对外咨询电话，印在向社会发布的警示信息中（NFRA 46）")


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

    @property
    def person_ids(self) -> frozenset[str]:
        """Who may answer for a record (``--by``, ``--proposed-by``): the profile's people."""
        return frozenset(p.id for p in self.people)

    def people_choices(self) -> dict[str, str]:
        """Each person's id and the label a form's choice shows (``李明（li.ming）``): the name to
        recognise, the id to tell two people of one name apart (regflows/deployments.py)."""
        return {p.id: f"{p.name}（{p.id}）" for p in self.people}

    def unit_choices(self) -> dict[str, str]:
        """Each reporting unit's code and the label a form's choice shows (``重庆分行（CQ01）``),
        the head office first: it is what an empty choice means."""
        units = sorted(self.reporting_units, key=lambda u: not u.head_office)
        return {u.code: f"{u.name}（{u.code}）" for u in units}

    def person(self, person_id: str) -> Person:
        for p in self.people:
            if p.id == person_id:
                return p
        raise KeyError(person_id)

    def roles_of_kind(self, kind: str) -> dict[str, Role]:
        return {key: role for key, role in self.roles.items() if role.kind == kind}

    def role_label(self, role: str) -> str:
        """A role key (``compliance``) or kind (``division``) as people read it: the role's name,
        or the names of every role of the kind (零售业务处); the code itself only when the profile
        has neither. Chinese texts never show the code (issue 14, 7)."""
        if role in self.roles:
            return self.roles[role].name
        return "、".join(r.name for r in self.roles_of_kind(role).values()) or role

    def regime_on(self, tag: str) -> bool:
        return bool(self.regimes.get(tag, False))  # type: ignore[call-overload]

    @property
    def head_office(self) -> ReportingUnit:
        return next((u for u in self.reporting_units if u.head_office), self.reporting_units[0])


class ProfileError(RuleFileError):
    """A profile that cannot be used; ``problems`` lists ``文件 … 第 N 行 field：message`` lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        super().__init__(problems, path, "机构配置")


def _repeats(values: list[str]) -> list[int]:
    """The positions of values already seen earlier in the list, in one pass (a set, not
    ``list.index`` per item: that made a 60,000-person profile take 94 s; bench/profile_check.py)."""
    seen: set[str] = set()
    repeats: list[int] = []
    for i, value in enumerate(values):
        if value in seen:
            repeats.append(i)
        seen.add(value)
    return repeats


def _cross_references(profile: Profile) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks that span several fields: references to people, required roles, unique ids."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    ids = [p.id for p in profile.people]
    for i in _repeats(ids):
        problems.append((("people", i, "id"), f"人员编号 {ids[i]} 重复"))
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
    if profile.regime_on("CQ-PLAN") and "service_provider" not in present:
        # CQ-PLAN 第四篇三（四）: a IV response ends by the division together with the development
        # centre and the professional service provider: each decides through its own member's link.
        problems.append((("roles",), "启用 CQ-PLAN 时须有 kind: service_provider 的专业服务机构（CQ-PLAN 第四篇三（四）：IV级响应结束由事件发生处室会同发展中心与专业服务机构决定）"))
    for field in ("incident_end_approval_role",):
        wanted = getattr(profile.settings, field)
        if not profile.regime_on("CQ-PLAN") and wanted not in profile.roles and wanted not in present:
            problems.append((("settings", field), f"没有角色 {wanted}（填角色键或 kind）"))
    codes = [u.code for u in profile.reporting_units]
    for i in _repeats(codes):
        problems.append((("reporting_units", i, "code"), f"机构代码 {codes[i]} 重复"))
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
    for i, unit in enumerate(profile.reporting_units):
        for field in ("credit_preparer", "inspection_owner"):
            person = getattr(unit, field)
            if person is not None and person not in known:
                problems.append((("reporting_units", i, field), f"未定义的人员 {person}"))
        for field in ("credit_review_role", "credit_signoff_role"):
            wanted = getattr(unit, field)
            if wanted is not None and wanted not in profile.roles and wanted not in kinds:
                problems.append((("reporting_units", i, field), f"没有角色 {wanted}（填角色键或 kind）"))
    wanted = settings.extension_approval_role
    if profile.regime_on("TENPAY") and wanted not in profile.roles and wanted not in kinds:
        problems.append((("settings", "extension_approval_role"), f"没有角色 {wanted}（填角色键或 kind；TENPAY 第十三条 公司管理层）"))
    return problems


def _regime_message(error: ErrorDetails) -> str | None:
    """A regime tag the digest does not know is named as such, with the five that exist."""
    if error["loc"][:1] == ("regimes",) and error["type"] == "literal_error":
        return f"未知的监管来源 {error.get('input')}（可选：{', '.join(REGIMES)}）"
    return None


def _messages(data: object) -> MessageHook:
    """The profile's own wording: unknown regimes (:func:`_regime_message`), and a channel URL
    refused for a literal secret named by person and channel in Chinese (never the URL itself:
    it holds the secret)."""
    def hook(error: ErrorDetails) -> str | None:
        loc = error["loc"]
        if len(loc) >= 5 and loc[0] == "people" and loc[2] == "channels" and loc[4] == "url" and error["type"] == "value_error":
            person: dict[str, object] = {}
            try:
                found = data["people"][loc[1]]  # type: ignore[index]
                person = found if isinstance(found, dict) else {}
            except (KeyError, IndexError, TypeError):
                pass
            who = f"人员 {person.get('id', '?')}（{person.get('name', '?')}）" if person else "人员"
            reason = str(error["msg"]).removeprefix("Value error, ")
            return f"{who}的第 {int(loc[3]) + 1} 个联系渠道：{reason}"
        return _regime_message(error)
    return hook


def load_profile(path: str | Path) -> Profile:
    """Read, validate and cross-check a profile; every problem names its field and line."""
    source_path = Path(path)
    try:
        document = read_yaml(source_path, "机构配置")
        if not isinstance(document.data, dict):
            raise RuleFileError([f"{place(source_path, 1)}：顶层必须是键值映射"], source_path)
        profile = document.validate(Profile, messages=_messages(document.data))
    except RuleFileError as exc:
        raise ProfileError(source_path, exc.problems) from exc
    cross = _cross_references(profile)
    if cross:
        raise ProfileError(source_path, [document.problem(loc, msg) for loc, msg in cross])
    return _with_public_base_url_override(profile, source_path)


def _with_public_base_url_override(profile: Profile, source_path: Path) -> Profile:
    """``REGFLOWS_PUBLIC_BASE_URL`` replaces the profile's ``public_base_url``: the same profile
    (the demo's, with its demo data) served on another port or behind another address, e.g. a
    second ``regflows up`` beside ``make run`` (the browser tests). Read here, where every process
    reads its profile, so the endpoint and the links in notices agree."""
    override = os.environ.get("REGFLOWS_PUBLIC_BASE_URL")
    if not override:
        return profile
    try:
        url = TypeAdapter(HttpUrl).validate_python(override)
    except ValidationError:
        raise ProfileError(source_path, [f"环境变量 REGFLOWS_PUBLIC_BASE_URL：{override!r} 不是有效的 http(s) 地址"]) from None
    return profile.model_copy(update={"public_base_url": url})


DEMO_PROFILE = Path(__file__).resolve().parent.parent / "profiles" / "demo.yaml"


def profile_path() -> Path:
    """The profile in use: REGFLOWS_PROFILE, else the demo profile shipped in the repo."""
    return Path(os.environ.get("REGFLOWS_PROFILE") or DEMO_PROFILE)
