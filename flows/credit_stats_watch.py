"""Hourly: write the obligation of each table last month owes (from the 1st, whatever happened
to the run: PBOC-102 三（二）, zero-report rule) and the corrections late events call for, move
each table through review and sign-off, remind about it on working days until it is marked
submitted, and raise it when the due day has passed (PBOC-102 III(2), attachment 2).

The acknowledgement endpoint advances a sign-off the moment a link is used; this watch is the
fallback that needs no endpoint: it records confirmations the endpoint could not act on and re-sends
review or sign-off requests whose links expired. A month that cannot go on (nobody eligible to sign,
the draft changed after review) fails the run, so it shows red in the UI. Both steps are tasks
(tasks/credit_stats.py); what they sent is the run's ``notices`` artifact. The profile is read by a
plain call, not a task: reading and validating one YAML file (~15 ms) is cheap and changes nothing;
a bad profile fails the run with its message.
"""

from __future__ import annotations

from prefect import flow

from regflows.credit.signoff import SignoffError
from regflows.profile import load_profile, profile_path
from tasks.credit_stats import deadline_reminders_task, owed_task, signoff_task


@flow(name="credit-stats-watch")
def credit_stats_watch() -> list[str]:
    """登记上月应报的每张统计表（每月 1 日起，无论统计运行是否成功）与迟发现事件的更正报送；推进统计表复核、签发；
    工作日提醒报送征信信息安全情况统计表，逾期未标记报送即上报。"""
    profile = load_profile(profile_path())
    owed_task(profile)  # first: a month whose run failed is owed and reminded all the same
    stuck = signoff_task(profile)
    sent = deadline_reminders_task(profile)
    if stuck:
        raise SignoffError("；".join(stuck))
    return sent
