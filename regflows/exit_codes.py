"""The exit codes of every ``regflows`` command: one table, so a script can tell outcomes apart.

Why one table (issue 13): a scheduler or a shell script that calls ``regflows`` must know whether
nothing was published (a failed check), the call was wrong, the calendar lacks a year, the answer
is only provisional, a rule refused the action, or only part was done, without reading Chinese
messages on stderr. The README's "Exit codes" section shows this table; keep the two the same
(``tests/regflows/test_exit_codes.py`` checks it).

A shared layer (``regflows/``'s top modules): every command line may import it, the procedures'
CLIs included. ``calendars`` does not: its library raises errors, and the CLI that calls it
(``regflows/cli.py``) chooses the code.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What a ``regflows`` command's exit status means (README, "Exit codes")."""

    DONE = 0
    """Done."""
    CHECK_FAILED = 1
    """A data-quality check failed: nothing was published."""
    USAGE = 2
    """Usage or input error: the field, row or line is named on stderr (click's own code too)."""
    NO_CALENDAR = 3
    """No calendar data (State Council notice not loaded) for a year the answer needs."""
    PROVISIONAL = 4
    """A provisional answer: printed on stdout as usual, stderr says why it may still change."""
    REFUSED = 5
    """Refused by a rule: an approval, a sign-off or a state does not allow it."""
    PARTIAL = 6
    """Partly done: e.g. an import with refused rows, which are listed."""

    @property
    def meaning_zh(self) -> str:
        """The meaning in Chinese, as the README table and ``--help`` texts give it."""
        return _MEANINGS_ZH[self]


_MEANINGS_ZH = {
    ExitCode.DONE: "完成",
    ExitCode.CHECK_FAILED: "数据质量检查未通过（未发布任何文件）",
    ExitCode.USAGE: "用法或输入错误（指出字段、行或行号）",
    ExitCode.NO_CALENDAR: "所需年份没有日历数据（国务院通知未载入）",
    ExitCode.PROVISIONAL: "暂定答复（仍在标准输出打印）",
    ExitCode.REFUSED: "被规则拒绝（审批、签发或状态不允许）",
    ExitCode.PARTIAL: "部分完成（如导入时有被拒绝的行，逐一列出）",
}
