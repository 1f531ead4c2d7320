"""Which runs the working-day watch follows (regflows/inspection/watch.py)."""

from __future__ import annotations

import datetime as dt

from regflows.inspection import records
from regflows.inspection.models import LINKS, Answer, Lead
from regflows.inspection.watch import runs_to_watch

AT = dt.datetime(2025, 10, 9, 2, tzinfo=dt.timezone.utc)


def lead(ref: str) -> Lead:
    return Lead("flagged", ref, "YX0001", "he.min", "非工作时间查询")


def test_the_latest_run_of_each_quarter_with_open_links(store_url: str) -> None:
    records.save_run("Q2-old", "2025Q2", 1, {}, [lead("a")], None, AT - dt.timedelta(days=90), url=store_url)
    records.save_run("Q3-old", "2025Q3", 1, {}, [lead("b")], None, AT, url=store_url)
    records.save_run("Q3-new", "2025Q3", 2, {}, [lead("c")], None, AT + dt.timedelta(hours=1), url=store_url)
    assert [(w.quarter, w.run_id) for w in runs_to_watch(store_url)] == [("2025Q2", "Q2-old"), ("2025Q3", "Q3-new")]
    records.record_answers("Q2-old", [Answer("flagged:a", link, "compliant", "已核实", "he.min", AT, "page") for link in LINKS],
                           store_url)
    watched = runs_to_watch(store_url)
    assert [w.run_id for w in watched] == ["Q3-new"]  # every link of Q2 answered: nothing to follow
    assert watched[0].progress[0].open_leads == ("flagged:c",)
