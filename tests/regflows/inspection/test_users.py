"""The users file (issue 15, "Inputs"): UTF-8 or GBK, every row typed, every bad row named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from regflows.inspection.models import InspectionInputError
from regflows.inspection.users import CHECK_COLUMNS, COLUMNS, UsersFileError, parse_users, read_users

HEADER = ",".join(COLUMNS)
GOOD = 'u1,p1,"query,report",distributed,active,,是,2026-01-05,2026-01-06,2026-09-01 10:00,true,否'


def test_a_good_row_is_typed() -> None:
    users = parse_users(f"{HEADER}\n{GOOD}\n\n").users
    assert len(users) == 1
    u = users[0]
    assert (u.line, u.user_id, u.person_id, u.roles, u.query_mode) == (2, "u1", "p1", frozenset({"query", "report"}), "distributed")
    assert (u.formal_employee, u.password_policy_ok, u.password_reused) == (True, True, False)
    assert u.password_changed_at == dt.date(2026, 9, 1) and u.created_at == dt.date(2026, 1, 5)
    assert u.changed_at is None and u.direct_user is None  # optional columns absent


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_utf8_and_gbk_files_read_alike(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(f"{HEADER}\n{GOOD}\n".encode(encoding))
    assert read_users(path).users[0].formal_employee is True  # 是 read in every encoding


def test_an_undecodable_file_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_bytes(HEADER.encode() + b"\n\xff\xfe\xfa\xfb\x81\x20\n")
    with pytest.raises(InspectionInputError, match="既不是 UTF-8 也不是 GBK"):
        read_users(path)


def test_every_bad_row_is_named_with_its_line_and_column() -> None:
    text = "\n".join([
        HEADER,
        GOOD,
        "u2,,bogus,,locked,,x,2026-13-01,,,1,0",
        "u3,p3,query,,active,,是,05/10/2025,,,1,0",
        GOOD,  # u1 again
    ])
    with pytest.raises(UsersFileError) as caught:
        parse_users(text, "users.csv")
    found = [str(p) for p in caught.value.problems]
    assert found == [
        "第 3 行 roles 列：未知角色 bogus（可选 admin、report、query、dispute，以逗号分隔）",
        "第 3 行 status_since 列：状态为 locked 的用户须填写状态起始日期",
        "第 3 行 formal_employee 列：'x' 不是是/否（true/false、是/否、1/0）",
        "第 3 行 created_at 列：'2026-13-01' 不是日期（应为 YYYY-MM-DD 或 ISO 8601 时间）",
        "第 4 行 query_mode 列：查询用户（roles 含 query）须填写 centralised 或 distributed",
        "第 4 行 created_at 列：'05/10/2025' 不是日期（应为 YYYY-MM-DD 或 ISO 8601 时间）",
        "第 5 行 user_id 列：u1 与第 2 行重复",
    ]
    assert "users.csv 有 7 处错误" in str(caught.value)


def test_missing_and_repeated_columns_refuse_the_file() -> None:
    with pytest.raises(InspectionInputError, match="缺少列 status"):
        parse_users(HEADER.replace(",status,", ",state,") + "\n" + GOOD + "\n")
    with pytest.raises(InspectionInputError, match="列名重复：user_id"):
        parse_users(HEADER + ",user_id\n")


def test_optional_columns_are_read_when_present() -> None:
    text = f"{HEADER},changed_at,direct_user\n{GOOD},2026-08-03,是\n{GOOD.replace('u1', 'u2')},,\n"
    users = parse_users(text)
    assert users.columns == set(CHECK_COLUMNS) | {"changed_at", "direct_user"}
    assert (users.users[0].changed_at, users.users[0].direct_user) == (dt.date(2026, 8, 3), True)
    assert (users.users[1].changed_at, users.users[1].direct_user) == (None, False)


def test_an_offset_time_is_taken_as_its_beijing_day() -> None:
    row = GOOD.replace("2026-01-05", "2026-01-04T20:00:00Z")  # 04:00 on the 5th in Beijing
    assert parse_users(f"{HEADER}\n{row}\n").users[0].created_at == dt.date(2026, 1, 5)


def test_active_on_follows_status_and_status_since() -> None:
    base = GOOD.replace(",active,,", ",locked,2026-08-10,")
    locked = parse_users(f"{HEADER}\n{base}\n").users[0]
    assert locked.active_on(dt.date(2026, 8, 9)) and not locked.active_on(dt.date(2026, 8, 10))
    assert not locked.active_on(dt.date(2026, 1, 4))  # before it existed
    reactivated = parse_users(f"{HEADER}\n{GOOD.replace(',active,,', ',active,2026-07-01,')}\n").users[0]
    assert not reactivated.active_on(dt.date(2026, 6, 30)) and reactivated.active_on(dt.date(2026, 7, 1))


def test_a_column_only_some_checks_need_may_be_absent() -> None:
    """Review of issue 15, item 11: without password_reused the file is read (the check that
    needs it is not evaluated, checks.NEEDS), not refused."""
    users = parse_users(HEADER.removesuffix(",password_reused") + "\n" + GOOD.removesuffix(",否") + "\n")
    assert "password_reused" not in users.columns and "password_policy_ok" in users.columns
    assert users.users[0].user_id == "u1"


def test_a_users_file_without_users_is_refused() -> None:
    """Review of issue 15, item 10: a header alone would pass every check."""
    with pytest.raises(InspectionInputError, match="只有表头，没有任何用户"):
        parse_users(HEADER + "\n\n", "users.csv")


def test_os_and_csv_errors_are_told_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(InspectionInputError) as caught:
        read_users(tmp_path / "absent.csv")
    assert str(caught.value) == f"用户文件 {tmp_path / 'absent.csv'} 不存在" and "No such file" not in str(caught.value)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InspectionInputError, match="是一个文件夹"):
        read_users(tmp_path / "dir.csv")
    huge = f"{HEADER}\n{GOOD}\n" + 'u2,"' + "x" * 200_000 + '"\n'
    with pytest.raises(UsersFileError) as bad:
        parse_users(huge, "users.csv")
    text = str(bad.value)
    assert "第 3 行（整行）：无法按 CSV 读取（某一字段过长（超过 131072 个字符）" in text
    assert "field larger" not in text and " 列：" not in text
