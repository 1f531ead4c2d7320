"""The Prefect UI of a real ``regflows up``, as an operator opens it: the deployments, the incident
form in Chinese (with a CJK font present, not boxes), a credit-stats run and its artifacts."""

from __future__ import annotations

import re
import subprocess

from regflows.credit.models import previous_period

CJK = re.compile(r"[\u4e00-\u9fff]{2,}")


def test_a_cjk_font_is_installed() -> None:
    """fonts-noto-cjk (make install): without it every Chinese label renders as boxes."""
    out = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=True).stdout
    assert out.strip(), "没有中文字体：运行 make install（Debian 软件包 fonts-noto-cjk）"


def test_the_incident_form_opens_from_the_deployments_in_chinese(regflows_up, page, screenshot) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{regflows_up.ui}/deployments")
    link = page.get_by_role("link", name="incident-response", exact=True).first
    link.wait_for()
    screenshot(page, "deployments")

    page.goto(f"{regflows_up.ui}{link.get_attribute('href')}/run")
    page.get_by_text("Parameters", exact=True).wait_for()
    page.get_by_text(re.compile("事件")).first.wait_for()
    screenshot(page, "incident-form")
    form_text = page.locator("body").inner_text()
    assert len(CJK.findall(form_text)) >= 5, form_text[:2000]

    # Two different characters drawn alike are the same missing-glyph box (tofu): with a CJK font
    # they differ. Drawn in the page, with the fonts the page itself falls back to.
    drawn_differently = page.evaluate(
        """() => {
            const draw = (ch) => {
                const c = document.createElement('canvas'); c.width = 40; c.height = 40;
                const g = c.getContext('2d'); g.font = '32px sans-serif'; g.fillStyle = '#000';
                g.fillText(ch, 2, 34);
                return {width: g.measureText(ch).width, pixels: Array.from(g.getImageData(0, 0, 40, 40).data).join()};
            };
            const a = draw('事'), b = draw('件');
            return a.width > 0 && a.pixels !== b.pixels;
        }"""
    )
    assert drawn_differently, "中文字符渲染为相同的方框：缺少中文字体"


def test_a_credit_stats_run_shows_its_artifacts(regflows_up, page, screenshot, run_deployment) -> None:  # type: ignore[no-untyped-def]
    period = previous_period().label  # the month `regflows up` generated the demo query log for
    run = run_deployment("credit-stats", {"period": period})
    assert run["state_type"] == "COMPLETED", run["state"]

    page.goto(f"{regflows_up.ui}/runs/flow-run/{run['id']}")
    page.get_by_text("Artifacts", exact=True).first.click()  # the run page's tab
    page.get_by_text("credit-stats-table").first.wait_for()
    screenshot(page, "credit-stats-artifacts", full_page=True)
    text = page.locator("body").inner_text()
    for key in ("credit-stats-table", "credit-stats-trend"):
        assert key in text, text[-3000:]
    assert f"征信信息安全情况统计表 {period}" in text, text[-3000:]
