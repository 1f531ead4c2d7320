"""The reviewer opens the table they are asked to approve from the review page (issue 14, 4).

A credit-stats run sends review requests to the demo's outbox; the request's personal link opens
the review page, whose 「下载文件」 link is the signed download of the recorded draft. The file
that arrives in the browser must be the very bytes the request names by SHA-256.
"""

from __future__ import annotations

import hashlib
import re

from regflows.credit.models import previous_period
from regflows.store.notices import latest_outbox


def test_the_reviewer_downloads_the_draft_from_the_review_page(regflows_up, page, screenshot, run_deployment) -> None:  # type: ignore[no-untyped-def]
    period = previous_period().label
    run = run_deployment("credit-stats", {"period": period})
    assert run["state_type"] == "COMPLETED", run["state"]

    url = f"sqlite:///{regflows_up.home / 'regflows.db'}"
    requests = [m for m in latest_outbox(200, url=url) if "待复核" in m.title and "/files/" in m.body and "/ack/" in m.body]
    assert requests, "no review request with a file link reached the outbox"
    body = requests[0].body
    digest = re.search(r"文件 SHA-256：([0-9a-f]{64})", body)
    ack = re.search(r"(https?://\S+/ack/\S+)", body)
    assert digest and ack, body

    page.goto(ack.group(1))
    page.get_by_text("下载文件").first.wait_for()
    screenshot(page, "review-page")
    with page.expect_download() as info:
        page.get_by_text("下载文件").first.click()
    download = info.value
    data = open(download.path(), "rb").read()
    assert hashlib.sha256(data).hexdigest() == digest.group(1)
    assert download.suggested_filename.endswith(".xlsx"), download.suggested_filename
