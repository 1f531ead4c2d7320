"""The profile's ``settings``: one model per procedure, each setting defined once.

Each setting is a choice the regulations leave to the institution (an interpretation, a
threshold, a time). It is defined here exactly once, with its default, its Chinese description
and its clause (``json_schema_extra={"clause": ...}``), so that no procedure keeps a second
default of its own: code reads ``profile.settings.<name>``, or ``Settings().<name>`` when there
is no profile. A setting no regulation speaks to (a retry interval, an SMS rate) says so in its
clause (:data:`NO_CLAUSE`) instead of inventing one.

Why one model per procedure composed by inheritance: a procedure's settings stay together and
are easy to find (``CreditSettings`` lists what the credit statistics read), while the profile
YAML keeps its flat format (every key directly under ``settings:``), which existing profiles use.
This module is part of the shared profile layer and imports no procedure.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

__all__ = ["NO_CLAUSE", "CoreSettings", "CreditSettings", "DrillSettings", "FlooredGrade", "Grade", "IncidentSettings", "InspectionSettings", "RatingSettings", "Settings"]

Grade = Literal["I", "II", "III", "IV"]
#: The rating grades that have a lowest score (D is the rest): PBOC-102 附件3 第十四条.
FlooredGrade = Literal["A", "B", "C"]
#: The clause of a setting no regulation fixes: an operating choice of the institution.
NO_CLAUSE = "无（本机构运行参数，法规未作规定）"


def _clause(text: str) -> dict[str, JsonValue]:
    return {"clause": text}


def _by_grade(**minutes: float) -> dict[Grade, float]:
    return {g: minutes[g] for g in ("I", "II", "III", "IV")}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CoreSettings(_Strict):
    """Settings every procedure shares: deadlines, notices and their escalation, the calendar."""

    deadline_roll_forward: bool = Field(
        default=True,
        description="按日计算的期限末日为休息日时顺延至下一工作日",
        json_schema_extra=_clause("民法典 第二百零三条"),
    )
    ack_wait_minutes: dict[Grade, float] = Field(
        default_factory=lambda: _by_grade(I=5, II=10, III=15, IV=30),
        description="未确认多久后沿升级链升级，按事件级别（无级别的通知按 IV）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    renotify_every_minutes: float = Field(
        default=30, gt=0, description="已确认但到期未处理完毕时，每隔多久再次提醒", json_schema_extra=_clause(NO_CLAUSE)
    )
    sms_per_minute: float = Field(
        default=30, gt=0, description="短信发送速率上限（Prefect 全局并发限制 regflows-sms）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    calendar_warn_from: str = Field(
        default="11-01", pattern=r"^\d{2}-\d{2}$", description="每年从该日起提醒下一年度节假日安排未载入",
        json_schema_extra=_clause("国务院办公厅 关于下一年度部分节假日安排的通知（每年年末发布）"),
    )
    calendar_horizon_days: int = Field(
        default=60, ge=1, le=366, description="日历覆盖检查的前瞻天数", json_schema_extra=_clause(NO_CLAUSE)
    )
    file_link_hours: float = Field(
        default=72, gt=0, le=24 * 90,
        description="文件下载链接（报告草稿、统计表等，经签名）的有效时长（小时）；复核、签发请求中的链接与请求同时失效",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    served_runs_nice: int = Field(
        default=5, ge=0, le=19,
        description="regflows up 启动的流程运行进程调低的调度优先级（nice 值增量）：运行集中启动时，端点（接收申报并立即通知）与 Prefect 服务器先得到 CPU；0 为不调整",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    run_pending_grace_minutes: float = Field(
        default=10, gt=0, le=24 * 60,
        description="运行被工作进程领取（Pending）后多久仍未启动进程即视为工作进程已中断，由 notice-watch 重新排队（regflows/recovery.py）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    restart_crashed_deployments: list[str] = Field(
        default_factory=lambda: ["incident-response"],
        description="异常中断（Crashed）后由 notice-watch 自动重新排队的部署：仅限可安全重跑的流程（事件响应按同一运行找回已登记的申报）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    run_restart_limit: int = Field(
        default=2, ge=0, le=10, description="同一运行异常中断后自动重新排队的次数上限，超过则报错待人工处理",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    run_recovery_window_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="多久以内异常中断的运行才自动重新排队（更早的留给人工）",
        json_schema_extra=_clause(NO_CLAUSE),
    )


class IncidentSettings(_Strict):
    """Settings of the incident-response procedure (regflows.incident)."""

    immediate_report_minutes: float = Field(
        default=60, gt=0, description="“立即”报告按发现后多少分钟计",
        json_schema_extra=_clause("TENPAY 第五条；PBOC-102 三（二）（“立即”，未给出时长）"),
    )
    due_soon_minutes: float = Field(
        default=30, gt=0, description="到期前多少分钟视为“即将到期”", json_schema_extra=_clause(NO_CLAUSE)
    )
    first_drafts_wait_minutes: float = Field(
        default=10, ge=0, le=24 * 60,
        description="事件登记后多少分钟内，首批报告草稿留给申报启动的 incident-response 运行撰写；超过仍无草稿（运行失败或未启动）时由 incident-watch 补写",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    clock_view_refresh_minutes: float = Field(
        default=5, gt=0, le=60,
        description="界面上的事件时限表与时间线：义务的状态、期限不变时，最多隔多少分钟刷新一次“剩余”时间（每分钟的检查只在内容变化或超过该间隔时重新发布）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    declaration_clock_skew_seconds: int = Field(
        default=300, ge=0, le=3600,
        description="事件登记时，各时间最多可晚于当前时间多少秒（服务器时钟误差）；更晚的时间是笔误，拒收并指明字段",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    records_begin: str = Field(
        default="2000-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="本机构记录的起始日期：早于该日的事件时间视为笔误，拒收并指明字段",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    incident_end_approval_role: str = Field(
        default="leadership_group",
        description="未启用 CQ-PLAN 时，批准结束应急响应的角色（角色键或 kind）；启用 CQ-PLAN 时按其各级规定",
        json_schema_extra=_clause("CQ-PLAN 第四篇三（仅在启用时适用）；NFRA 第四十六条（应急预案由机构自定）"),
    )
    reminder_minutes_before: list[int] = Field(
        default_factory=lambda: [30, 10], description="义务到期前多少分钟提醒；到期时未履行即上报",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    untimed_reminder_hours: float = Field(
        default=4, gt=0, description="没有固定时长（“及时”）的义务，自发现起每隔多少小时提醒一次，直至登记履行",
        json_schema_extra=_clause("NFRA 第四十五、四十六、四十九条；CQ-PLAN 第三篇四、第四篇二（“及时”，未给出时长）"),
    )
    extension_approval_role: str = Field(
        default="leadership_group",
        description="公司管理层：其成员可书面批准另定个人金融信息安全事件第七至九条措施的期限（角色键或 kind）",
        json_schema_extra=_clause("TENPAY 第十三条（除非有公司管理层另行书面批准）"),
    )


class CreditSettings(_Strict):
    """Settings of the monthly credit-information statistics (regflows.credit).

    The 异常查询 thresholds: PBOC-102 二（四） asks for abnormal-query monitoring with thresholds
    and leaves the values to the institution; attachment 3 item 13 rates a per-user daily volume
    of 150-250 (centralised query).
    """

    # None of these values is written in the texts: 二（四） asks for daily checks and monitoring
    # "with indicators", 附件3 13.3 for "合理设定监测阈值"; each value is ours (README, Interpretations).
    credit_work_start: str = Field(
        default="08:30:00", pattern=r"^\d{2}:\d{2}:\d{2}$", description="工作日查询时段起（含）；此前查询为异常",
        json_schema_extra=_clause("PBOC-102 二（四）；附件3 13.3（合理设定监测阈值；时段为本机构取值）"),
    )
    credit_work_end: str = Field(
        default="18:00:00", pattern=r"^\d{2}:\d{2}:\d{2}$", description="工作日查询时段止（含）；此后查询为异常",
        json_schema_extra=_clause("PBOC-102 二（四）；附件3 13.3（合理设定监测阈值；时段为本机构取值）"),
    )
    credit_log_time_format: str | None = Field(
        default=None,
        description="查询日志时间列的格式（strftime 写法，如 %Y/%m/%d %H:%M:%S）；不填则只接受 ISO 8601"
                    "（日期与时间之间用 T 或空格）和 Excel 日期单元格；日/月顺序不明的写法一律拒收并指明行",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    credit_partition_rows: int = Field(
        default=5_000_000, ge=0,
        description="查询日志（Parquet）超过此行数时分区处理：每个分区约 100 万行（按文件的行组划分，且不超过此行数），内存约为进程数乘以一个分区所需；"
                    "0 表示始终整体读入。统计结果与整体读入完全相同；默认 500 万行：再小则分区（两个进程各处理约百万行）反比整体读入更占内存",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    credit_dask_address: str | None = Field(
        default=None,
        description="分区处理的大月份在 Dask 集群上运行（credit-stats 流程）：集群调度器地址（如 tcp://10.0.0.5:8786；各节点须能以相同路径"
                    "读到查询日志与临时目录）；不填则每次运行启动本机集群",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    credit_partition_nice: int = Field(
        default=10, ge=0, le=19,
        description="credit-stats 流程在本机 Dask 集群上处理大月份时，分区进程调低的调度优先级（nice 值增量）：批量计算让出 CPU 给端点、"
                    "Prefect 服务器与提醒；0 为不调整（已有集群 credit_dask_address 由其运维设定）",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    credit_partition_workers: int = Field(
        default=2, ge=1, le=64,
        description="分区处理的大月份同时处理的进程数：命令行的进程池、credit-stats 流程的本机 Dask 集群（未设 credit_dask_address 时）；"
                    "内存约为进程数乘以一个分区所需；1 为在本进程内逐个处理",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    credit_daily_query_limit: int = Field(
        default=250, ge=1, description="单一用户单日查询量上限，超出部分为异常",
        json_schema_extra=_clause(
            "PBOC-102 二（四）；附件3 13.3（合理设定监测阈值）；取附件3 5.1 集中查询用户“日均 150-250 笔”的上端："
            "5.1 是确定用户数量的日均业务量，不是单日上限，此处借用为本机构取值"),
    )
    credit_repeat_subject_limit: int = Field(
        default=3, ge=1, description="同一机构 30 日内查询同一主体的次数上限，此后每次为异常",
        json_schema_extra=_clause("PBOC-102 二（四）；附件3 13.3（合理设定监测阈值；次数为本机构取值）"),
    )
    credit_repeat_window_days: int = Field(
        default=30, ge=1, description="重复查询的滚动窗口（天）",
        json_schema_extra=_clause("PBOC-102 二（四）；附件3 13.3（合理设定监测阈值；天数为本机构取值）"),
    )
    credit_blocked_user_statuses: list[Literal["locked", "suspended"]] = Field(
        default_factory=lambda: list[Literal["locked", "suspended"]](["locked", "suspended"]),
        description="查询时处于这些状态（锁定、停用）的用户，其查询计为异常查询",
        json_schema_extra=_clause("PBOC-102 二（一）（及时停用用户）；附件3 5.4（用户停用、锁定）"),
    )
    credit_non_formal_user_abnormal: bool = Field(
        default=True, description="非正式员工用户的查询计为异常查询",
        json_schema_extra=_clause("PBOC-102 附件3 5.7（不得为非正式员工设置征信系统用户）"),
    )
    # 查询原因代码 of a personal credit report (二代个人征信报告 PH010Q03): 01 贷后管理, 02 贷款审批,
    # 03 信用卡审批, 08 担保资格审查, 16 公积金提取复核查询, 19 特约商户实名审查, 20 保前审查,
    # 21 保后管理, 22 法人代表、负责人、高管等资信审查, 23 客户准入资格审查, 24 融资审批, 25 资信审查,
    # 26 额度审批, and 05 异议核查: handling objections is a duty (附件3 10.1: 异议核查与处理), so
    # checking the report for one is an agreed purpose. Left out by default: 09 司法调查 and 18
    # 股指期货开户 (not a lender's reasons). A code outside the set is a lead, not bad data
    # (rule reason_not_agreed, 附件3 9.1). No official table is public (the 征信中心's interface specifications are not); the
    # names agree across several independent readers of the report format: check the set against
    # the codes the institution uses.
    credit_reason_codes: list[str] = Field(
        default_factory=lambda: ["01", "02", "03", "05", "08", "16", "19", "20", "21", "22", "23", "24", "25", "26"],
        description="个人征信查询原因代码集合（二代 PH010Q03；须与本机构实际使用的代码核对）；集合外的代码计为异常查询线索",
        json_schema_extra=_clause("PBOC-102 附件3 8.3（查询用途须登记）、9.1（约定用途）；05 异议核查：附件3 10.1"),
    )
    # 查询原因代码 of an enterprise credit report (二代企业征信报告 EA01BD02): 01 贷前（保前）审查,
    # 02 贷中操作, 03 贷后（在保）管理, 04 其他原因, 05 关联查询, 17 额度审批, 18 担保审查. The same
    # number means something else than for a person (01 is 贷后管理 there), so each subject type is
    # checked against its own set.
    credit_enterprise_reason_codes: list[str] = Field(
        default_factory=lambda: ["01", "02", "03", "04", "05", "17", "18"],
        description="企业征信查询原因代码集合（二代 EA01BD02；同一代码含义与个人不同）；集合外的代码计为异常查询线索",
        json_schema_extra=_clause("PBOC-102 附件3 8.3（查询用途须登记）、9.1（约定用途）"),
    )
    # The daily check (日核查, PBOC-102 二（四）): the day's query log, where 违规查询 are raised at once
    # (三（二）: 发生征信信息安全风险事件的，应立即上报) and 异常查询 leads go as one daily digest.
    credit_daily_log_pattern: str = Field(
        default="credit/daily/query-log-{date}.csv",
        description="每日查询日志的路径模式：{date} 为该日（YYYY-MM-DD，也可写 {date:%Y%m%d}）；相对路径以 REGFLOWS_HOME 为起点",
        json_schema_extra=_clause("PBOC-102 二（四）（查询操作日核查）"),
    )
    credit_daily_alert_role: str = Field(
        default="compliance", description="日核查发现的违规查询（立即上报、须确认）和异常查询线索日报的接收角色",
        json_schema_extra=_clause("PBOC-102 二（四）（异常查询监控、处置与报告）；三（二）（风险事件应立即上报）"),
    )
    credit_daily_check_from: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="尚无核查记录时从哪一天起核查（YYYY-MM-DD）；留空为前一日",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    # 填表人、复核人、签发人 of the monthly table: three different people of this profile; the run
    # records the preparer, the other two approve through personal signed links.
    credit_preparer: str | None = Field(
        default=None, description="统计表填表人（人员编号）；运行时可用 preparer 参数指定",
        json_schema_extra=_clause("PBOC-102 附件2（填表人）"),
    )
    credit_review_role: str = Field(
        default="compliance", description="复核人所在角色（角色键或 kind）；填表人本人不能复核",
        json_schema_extra=_clause("PBOC-102 附件2（复核人）"),
    )
    credit_signoff_role: str = Field(
        default="leadership_group", description="签发人所在角色（角色键或 kind）；填表人、复核人本人不能签发",
        json_schema_extra=_clause("PBOC-102 附件2（签发人）"),
    )
    # PBOC-102 三（二） asks for every month's events and never says where an event belongs that is
    # discovered after its month's table was filed: in the month of discovery (marked as found
    # late, with the month it occurred in) or as a correction of the filed month. Never lost either way.
    credit_late_events: Literal["discovery_month", "correct_filed_month"] = Field(
        default="discovery_month",
        description="报表报送后才发现的上月事件：discovery_month 计入发现当月的统计表（备注注明发生月份）；"
        "correct_filed_month 计入发生月份，须更正报送该月报表",
        json_schema_extra=_clause("PBOC-102 三（二）（按月报送、零报告；迟发现事件的归属未作规定）"),
    )
    credit_signoff_link_days: int = Field(
        default=14, ge=1, le=60, description="复核、签发链接的有效天数；过期未处理时重新发送",
        json_schema_extra=_clause(NO_CLAUSE),
    )


class InspectionSettings(_Strict):
    """Settings of the quarterly self-inspection (regflows.inspection; PBOC-102 三（三）).

    The users' numbers are attachment 3's (附件3 5.1-5.7); the sample size and the report's due
    day are the institution's own (the texts ask for 抽查 and a quarterly written report and fix
    neither a number nor a day: README, Interpretations).
    """

    inspection_idle_days: int = Field(
        default=30, ge=1, description="查询用户连续多少个自然日未查询即应锁定；期间第该日仍未锁定为问题",
        json_schema_extra=_clause("PBOC-102 附件3 5.4（连续30天未进行查询操作的查询用户，应立即锁定）"),
    )
    inspection_distributed_min_daily: float = Field(
        default=20, gt=0, description="分散查询用户在统计月份内按工作日计的日均查询量下限；低于该值而未停用为问题",
        json_schema_extra=_clause("PBOC-102 附件3 5.1（分散查询用户：六个月日均查询量不足 20 笔）"),
    )
    inspection_distributed_months: int = Field(
        default=6, ge=1, le=24, description="分散查询用户日均查询量的统计月份数（截至季末，含季末所在月）",
        json_schema_extra=_clause("PBOC-102 附件3 5.1（分散查询用户：六个月日均查询量）"),
    )
    inspection_centralised_min_daily: float = Field(
        default=150, gt=0, description="集中查询用户本季度按工作日计的日均查询量下限（含）",
        json_schema_extra=_clause("PBOC-102 附件3 5.1（集中查询用户：日均查询量 150-250 笔）"),
    )
    inspection_centralised_max_daily: float = Field(
        default=250, gt=0, description="集中查询用户本季度按工作日计的日均查询量上限（含）",
        json_schema_extra=_clause("PBOC-102 附件3 5.1（集中查询用户：日均查询量 150-250 笔）"),
    )
    inspection_password_max_days: int = Field(
        default=30, ge=1, description="口令最长使用天数：季末前超过该天数未更换口令的在用用户为问题",
        json_schema_extra=_clause("PBOC-102 附件3 5.6（口令更换周期：30 天）"),
    )
    inspection_filing_working_days: int = Field(
        default=2, ge=1, description="管理员用户及直连征信系统设立的用户，自设立或变更次日起多少个工作日内应备案",
        json_schema_extra=_clause("PBOC-102 附件3 5.2（管理员用户、直连用户设立或变更后 2 个工作日内备案）"),
    )
    inspection_sample_percent: float = Field(
        default=2, gt=0, le=100,
        description="抽查样本量：本季度未被标记查询数的百分比（向上取整），不少于 inspection_sample_min，不超过总体",
        json_schema_extra=_clause("PBOC-102 三（三）（不定期组织抽查；比例为本机构取值）"),
    )
    inspection_sample_min: int = Field(
        default=30, ge=1, description="抽查样本量下限（总体不足时全部抽查）",
        json_schema_extra=_clause("PBOC-102 三（三）（不定期组织抽查；数量为本机构取值）"),
    )
    inspection_page_link_days: float = Field(
        default=21, gt=0, le=92, description="线索核实页面个人链接的有效天数（自发出起）；过期后随提醒重新发送",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    inspection_report_due_working_days: int = Field(
        default=15, ge=1, le=60, description="自查自纠书面报告：季度结束次日起多少个工作日内报送",
        json_schema_extra=_clause("PBOC-102 三（三）（按季度书面报告，报告流程参照征信信息安全事件；未规定日期，为本机构取值）"),
    )
    inspection_head_office_summary: bool = Field(
        default=True,
        description="总部的自查报告是否附单独报送单位的概况（线索、抽查、问题数与报告状态；明细见各单位自己的报告）",
        json_schema_extra=_clause("PBOC-102 三（三）（接入机构按季度自查自纠并向人民银行书面报告；报告流程参照三（二），单独报送单位报所在地人民银行分支机构）"),
    )
    # -- rectification (issue 15, item 5) --
    inspection_rectification_working_days: int = Field(
        default=15, ge=1, le=120,
        description="问题整改期限的默认值：整改反馈次日起多少个工作日内完成整改（整改责任人可另定期限）",
        json_schema_extra=_clause("PBOC-102 附件4 六（二）（接到整改反馈后的 15 个工作日内报送整改情况；整改本身的期限未规定，默认取同一天数）"),
    )
    inspection_rectification_report_from: Literal["feedback", "signoff"] = Field(
        default="signoff",
        description=("自查发现问题的整改情况报告自何日起算 15 个工作日：signoff 自查报告签发之日，feedback 问题反馈之日；"
                     "人民银行检查（patrol）反馈的问题一律自反馈之日起算"),
        json_schema_extra=_clause("PBOC-102 附件4 六（二）（「接到整改反馈后的 15 个工作日内」；自查问题的“反馈”之日未规定，为本机构取值）"),
    )
    # -- the report's sign-off (issue 15, items 6 and 7) --
    inspection_review_role: str = Field(
        default="compliance",
        description="自查报告复核人所在角色（角色键或 kind）；提交签发的人员本人不能复核",
        json_schema_extra=_clause("PBOC-102 三（三）（报告流程参照征信信息安全事件的报告要求：事件报告由合规部门复核，为本机构取值）"),
    )
    inspection_approval_role: str = Field(
        default="leadership_group",
        description="自查报告签发人所在角色（角色键或 kind）；提交人、复核人本人不能签发",
        json_schema_extra=_clause("PBOC-102 三（三）（报告流程参照征信信息安全事件的报告要求：事件报告经领导审批后报送，为本机构取值）"),
    )
    inspection_signoff_link_days: int = Field(
        default=14, ge=1, le=60, description="自查报告复核、签发链接（含报告与问题清单的下载链接）的有效天数；过期未处理时重新发送",
        json_schema_extra=_clause(NO_CLAUSE),
    )
    inspection_remind_working_days_before: list[int] = Field(
        default_factory=lambda: [5, 1],
        description="整改与自查报告期限前多少个工作日提醒（09:00）；到期日当天再提醒，逾期后升级",
        json_schema_extra=_clause(NO_CLAUSE),
    )

    @model_validator(mode="after")
    def _range_in_order(self) -> "InspectionSettings":
        if self.inspection_centralised_min_daily > self.inspection_centralised_max_daily:
            raise ValueError("inspection_centralised_min_daily 不能大于 inspection_centralised_max_daily")
        if any(n < 1 for n in self.inspection_remind_working_days_before):
            raise ValueError("inspection_remind_working_days_before 的每一项须为正整数（期限前的工作日数）")
        return self


def _grade_floors() -> dict[FlooredGrade, Decimal]:
    return {"A": Decimal(90), "B": Decimal(75), "C": Decimal(60)}


class RatingSettings(_Strict):
    """Settings of the annual rating self-assessment (regflows.rating; PBOC-102 六, 附件3).

    The choices where attachment 3's table is silent or contradicts itself (README,
    Interpretations): items 16, 17 and 18, 6.3's coverage from 60 % to 100 %, and how a score
    between the bands of 第十四条 (89.5) is read.
    """

    rating_contradictions: Literal["cap_at_value", "rule_text"] = Field(
        default="cap_at_value",
        description=("指标16、17 计分标准写“得5分”而分值为3、4，指标18 分值为3而计分标准写“加2分”：cap_at_value 指标16、17 "
                     "最高按分值计（3、4分），指标18 加2分；rule_text 指标16、17 按计分标准计5分，指标18 加2分；两者总分均不超过100分"),
        json_schema_extra=_clause("PBOC-102 附件3 指标 16、17、18；第六条（满分为100分）；指标 18 计分标准3"),
    )
    rating_grade_floors: dict[FlooredGrade, Decimal] = Field(
        default_factory=_grade_floors,
        description=("各等级的最低分（含），左闭右开：不低于 A 的为 A 级，不低于 B 的为 B 级，不低于 C 的为 C 级，其余为 D 级；"
                     "89.5 分按默认值为 B 级（如按四舍五入读作 A 级，将 A 设为 89.5）"),
        json_schema_extra=_clause("PBOC-102 附件3 第十四条（90分-100分为A级，75分-89分为B级，60分-74分为C级，59分及以下为D级）"),
    )
    rating_training_coverage_partial_points: Literal[1, 2] = Field(
        default=1,
        description="指标6.3 培训覆盖面达到60%（含）但未覆盖全部征信从业人员时的得分：1（满分须覆盖全部）或 2（仅不足60%扣分）",
        json_schema_extra=_clause("PBOC-102 附件3 指标 6.3（覆盖全部得2分，覆盖面不足60%得1分；60%至100%之间未作规定）"),
    )

    rating_local_submission_due: str = Field(
        default="01-31", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        description=("地方性接入机构（credit_access: local）报送自评结果及证明材料的截止日（MM-DD，评级年度的次年），"
                     "按所在地人民银行分支机构的要求填写；落在休息日的顺延至下一个工作日。全国性接入机构固定为 1 月 31 日（第十条）"),
        json_schema_extra=_clause("PBOC-102 附件3 第十一条（人民银行分支机构参照第十条的程序组织辖区内接入机构的考核评级）"),
    )
    rating_review_role: str = Field(
        default="compliance",
        description="年度考核评级自评报告复核人所在角色（角色键或 kind）；提交签发的人员本人不能复核",
        json_schema_extra=_clause("PBOC-102 附件3 第十二条（接入机构对自评结果和相关证明材料的真实性负责；复核人为本机构取值）"),
    )
    rating_approval_role: str = Field(
        default="leadership_group",
        description="年度考核评级自评报告签发人所在角色（角色键或 kind）；提交人、复核人本人不能签发",
        json_schema_extra=_clause("PBOC-102 附件3 第十二条（签发人为本机构取值）"),
    )
    rating_signoff_link_days: int = Field(
        default=14, ge=1, le=60, description="自评报告复核、签发链接（含报告与计分表的下载链接）的有效天数；过期未处理时重新发送",
        json_schema_extra=_clause(NO_CLAUSE),
    )

    @model_validator(mode="after")
    def _floors_in_order(self) -> "RatingSettings":
        floors = self.rating_grade_floors
        if set(floors) != {"A", "B", "C"}:
            raise ValueError("rating_grade_floors 须写出 A、B、C 三个等级的最低分")
        if not Decimal(0) < floors["C"] < floors["B"] < floors["A"] <= Decimal(100):
            raise ValueError("rating_grade_floors 须满足 0 < C < B < A ≤ 100")
        month, day = (int(x) for x in self.rating_local_submission_due.split("-"))
        if (month, day) == (2, 29):  # a day only leap years have: the deadline of most years would not exist
            raise ValueError("rating_local_submission_due 不能为 02-29（只有闰年才有该日，其他年份的报送截止日无从确定）：请按所在地人民银行"
                             "分支机构的要求写 02-28 或 03-01")
        if day > (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31):
            raise ValueError(f"rating_local_submission_due 不是有效的月日：{self.rating_local_submission_due}")
        return self


class DrillSettings(_Strict):
    """Settings of the drills (regflows.drills; digest section 5).

    The texts say how often a drill is owed (yearly, half-yearly, quarterly) and never when in the
    period: the month the institution plans its drills in is its own choice, and reminders start
    from it (README, Interpretations).
    """

    drill_month: int = Field(
        default=9, ge=1, le=12,
        description=("演练计划月份：年度演练自该月起提醒；半年度、季度演练自各期内与该月同位置的月份起提醒"
                     "（如 9 月：上半年自 3 月、下半年自 9 月；各季度自第 3 个月）；期末仍未登记即上报"),
        json_schema_extra=_clause("NFRA 第三十、四十四、五十七、六十条；TENPAY 第十五条；CUSTINFO 5.3、8.1；CQ-PLAN 第六篇二、第八章一（规定频次，未规定月份，为本机构取值）"),
    )
    drill_owner_role: str = Field(
        default="emergency_working_group",
        description="组织演练、评估应急预案并登记其证据的角色（角色键或 kind），应履行的演练与评估向其提醒",
        json_schema_extra=_clause("CQ-PLAN 第六篇二（应急演练）；NFRA 第四十四条（应急预案由机构自定）"),
    )
    drill_plan_approval_role: str = Field(
        default="leadership_group",
        description="批准演练方案的角色（角色键或 kind）；方案先由 drill_owner_role 审核，提交人、审核人本人不能批准",
        json_schema_extra=_clause("TENPAY 第十六条（演练方案）；NFRA 第六十条（攻防演习方案报批）；CQ-PLAN 第二篇（领导小组）"),
    )
    drill_rectification_working_days: int = Field(
        default=15, ge=1, le=120,
        description="演练发现问题的整改期限：演练报告写出次日起多少个工作日内完成整改（整改经他人复查后销号）",
        json_schema_extra=_clause("TENPAY 第十五条；NFRA 第四十四条（演练后改进应急预案；整改期限未规定，取与 PBOC-102 附件4 六（二）相同的 15 个工作日）"),
    )
    drill_plan_link_days: int = Field(
        default=14, ge=1, le=60, description="演练方案审核、批准链接（含方案文件的下载链接）的有效天数；过期未处理时重新发送",
        json_schema_extra=_clause(NO_CLAUSE),
    )


class Settings(DrillSettings, RatingSettings, InspectionSettings, CreditSettings, IncidentSettings, CoreSettings):
    """Interpretation settings of a profile: the union of the procedures' settings, flat in YAML.

    A new procedure adds its own ``<Name>Settings`` above and lists it here; a test checks that no
    name is defined by two of them.
    """

