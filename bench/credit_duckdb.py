"""The monthly credit statistics in DuckDB: the baseline of the benchmark and of the differential check (issue 18).

    .venv/bin/python bench/credit_duckdb.py --logs LOG.parquet --period 2025-09 --out DIR [--users USERS.csv]

An independent implementation of what ``regflows credit-stats run`` checks, counts and lists,
written from the rule text (the README's "Monthly credit-information security statistics", the
clauses named in regflows/credit/models.py RULES, the settings' descriptions) in SQL, without
calling regflows' rules or suites: its counts and flagged rows are compared with regflows' by
``bench/credit_stats.py`` at every size and by ``tests/regflows/credit/test_differential.py``.
What it takes from regflows is configuration and data only: the thresholds of the profile's
settings, the official working-day calendar (``calendars.is_working_day``) and the rule names,
their counts and clause texts (``RULES``), which are output labels.

Input: the query log as Parquet (the demo's and the benchmark's format: times as timestamps,
naive ones Asia/Shanghai wall-clock time, dates as dates or timestamps); the users file as CSV or
Parquet. Output (``--out``): ``flagged-queries-YYYY-MM.csv`` and ``summary.json`` (counts per
institution); regflows also writes the .xlsx tables, which this baseline does not.

The rules, as read from the text (PBOC-102 二（四）, 附件3 8.1 and 9.1):

- the period's queries are those whose Shanghai wall-clock time falls in the month; earlier rows
  are history, used by the 30-day rule only; later rows fail the data-quality checks;
- 违规查询 (附件3 8.1): no authorization id or date; authorized after the query's day; the query's
  day after the authorization's expiry (the day itself still valid);
- 异常查询 (二（四）), for queries that are not 违规 (违规 is counted first, each query once): a user
  locked/suspended (as of ``status_since``) or not a formal employee; a non-working day or outside
  08:30:00-18:00:00 (both bounds inside); a user's 251st and later query of a day (by time, file
  order breaking ties); more than 3 queries of one subject by one institution within
  (t - 30 days, t] (history included, file order breaking ties); a 查询原因 outside its subject
  type's agreed codes (附件3 9.1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

_DAY_MS = 86_400_000
LOG_STRINGS = ("query_id", "user_id", "institution", "region", "subject_id", "subject_type", "reason_code",
               "authorization_id", "loan_application_id")
REQUIRED = ("query_id", "queried_at", "user_id", "institution", "subject_id", "subject_type", "reason_code")
UNAUTHORIZED = ("no_authorization", "authorization_after_query", "authorization_expired")
ABNORMAL = ("user_status", "off_hours", "daily_volume", "repeat_subject", "reason_not_agreed")
_WHITESPACE = " \t\n\r\x0b\x0c"


@dataclass
class Config:
    """The thresholds (profile settings) and labels the baseline needs."""

    first_day: dt.date
    next_first_day: dt.date
    work_start_ms: int
    work_end_ms: int
    daily_limit: int
    repeat_limit: int
    window_days: int
    person_codes: tuple[str, ...]
    enterprise_codes: tuple[str, ...]
    blocked_statuses: tuple[str, ...]
    non_formal_abnormal: bool
    rules: dict[str, tuple[str, str]]  # rule → (count, text)
    working_days: list[dt.date]  # the official calendar's working days of the month
    max_text: int = 200

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "first_day": self.first_day.isoformat(), "next_first_day": self.next_first_day.isoformat(),
                           "working_days": [d.isoformat() for d in self.working_days]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "Config":
        raw = json.loads(text)
        raw["working_days"] = [dt.date.fromisoformat(d) for d in raw["working_days"]]
        for key in ("first_day", "next_first_day"):
            raw[key] = dt.date.fromisoformat(raw[key])
        for key in ("person_codes", "enterprise_codes", "blocked_statuses"):
            raw[key] = tuple(raw[key])
        raw["rules"] = {k: tuple(v) for k, v in raw["rules"].items()}
        return cls(**raw)


@dataclass
class Result:
    failures: Any  # pandas frame: row, field, check (empty when every check passed)
    counts: dict[str, dict[str, int]]  # institution → {count: n}
    flagged: Any  # pandas frame: row, query_id, queried_at, institution, user_id, subject_id, count, rule, rules, rule_text
    seconds: dict[str, float]


def config(period: str, profile: Path | None = None) -> Config:
    """The thresholds of ``profile`` (the demo's by default) and the month's working days."""
    from calendars import is_working_day
    from regflows.credit.models import RULES, MAX_TEXT_LENGTH
    from regflows.profile import load_profile

    s = load_profile(profile or ROOT / "profiles" / "demo.yaml").settings
    year, month = (int(p) for p in period.split("-"))
    first = dt.date(year, month, 1)

    def ms(text: str) -> int:
        h, m, sec = (int(p) for p in text.split(":"))
        return ((h * 60 + m) * 60 + sec) * 1000

    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    days = [first + dt.timedelta(days=k) for k in range((following - first).days)]
    return Config(first, following, ms(s.credit_work_start), ms(s.credit_work_end),
                  s.credit_daily_query_limit, s.credit_repeat_subject_limit, s.credit_repeat_window_days,
                  tuple(s.credit_reason_codes), tuple(s.credit_enterprise_reason_codes),
                  tuple(s.credit_blocked_user_statuses), s.credit_non_formal_user_abnormal, dict(RULES),
                  [d for d in days if is_working_day(d)], MAX_TEXT_LENGTH)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _list(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(_quote(v) for v in values) + ")" if values else "(NULL)"


def _string(col: str, present: set[str]) -> str:
    if col not in present:
        return f"CAST(NULL AS VARCHAR) AS {col}"
    return f"NULLIF(trim(CAST({col} AS VARCHAR), {_quote(_WHITESPACE)}), '') AS {col}"


def _instant(col: str, types: dict[str, str]) -> str:
    kind = types.get(col, "")
    if "WITH TIME ZONE" in kind:
        return f"timezone('Asia/Shanghai', {col})"
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"CAST({col} AS TIMESTAMP)"
    return f"TRY_CAST(NULLIF(trim(CAST({col} AS VARCHAR)), '') AS TIMESTAMP)"


def load(con: duckdb.DuckDBPyConnection, log: Path, users: Path | None) -> None:
    """Table ``q`` (the log, cleaned: trimmed strings, empty → NULL, times as Shanghai wall-clock
    ms) and table ``u`` (the users, first row of each id), each row with its file position ``i``."""
    src = f"read_parquet({_quote(str(log))}, file_row_number = true)"
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    present = set(types)
    dates = []
    for col in ("authorized_at", "authorization_expires"):
        if col in present:
            parsed = f"CAST({_instant(col, types)} AS DATE)"
            typed = types[col].startswith(("TIMESTAMP", "DATE"))  # a typed column has no unparseable value
            bad = "false" if typed else f"({col} IS NOT NULL AND {parsed} IS NULL AND NULLIF(trim(CAST({col} AS VARCHAR)), '') IS NOT NULL)"
            dates += [f"{parsed} AS {col}", f"{bad} AS bad_{col}"]
        else:
            dates += [f"CAST(NULL AS DATE) AS {col}", f"false AS bad_{col}"]
    t = _instant("queried_at", types)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE q AS
        SELECT file_row_number AS i,
               {", ".join(_string(c, present) for c in LOG_STRINGS)},
               epoch_ms({t}) AS t,
               {"false" if types.get("queried_at", "").startswith(("TIMESTAMP", "DATE")) else f"(queried_at IS NOT NULL AND {t} IS NULL)"} AS bad_queried_at,
               {", ".join(dates)}
        FROM {src}""")
    if users is None:
        con.execute("CREATE OR REPLACE TEMP TABLE u (i BIGINT, user_id VARCHAR, status VARCHAR, formal VARCHAR, since DATE,"
                    " bad_since BOOLEAN)")
        return
    reader = "read_parquet" if users.suffix.lower() in {".parquet", ".pq"} else "read_csv"
    extra = ", all_varchar = true, header = true" if reader == "read_csv" else ""
    usrc = f"(SELECT row_number() OVER () - 1 AS i, * FROM {reader}({_quote(str(users))}{extra}))"
    ucols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {usrc}").fetchall()}
    since = "NULLIF(trim(CAST(status_since AS VARCHAR)), '')" if "status_since" in ucols else "NULL"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE u AS
        SELECT i, NULLIF(trim(CAST(user_id AS VARCHAR)), '') AS user_id,
               lower(NULLIF(trim(CAST(status AS VARCHAR)), '')) AS status,
               CASE WHEN lower(trim(CAST(formal_employee AS VARCHAR))) IN ('true', '1', 'yes', 'y', '是', 't') THEN 'true'
                    WHEN lower(trim(CAST(formal_employee AS VARCHAR))) IN ('false', '0', 'no', 'n', '否', 'f') THEN 'false'
                    ELSE lower(NULLIF(trim(CAST(formal_employee AS VARCHAR)), '')) END AS formal,
               CAST(TRY_CAST({since} AS TIMESTAMP) AS DATE) AS since,
               ({since} IS NOT NULL AND TRY_CAST({since} AS TIMESTAMP) IS NULL) AS bad_since
        FROM {usrc}""")


def checks(con: duckdb.DuckDBPyConnection, c: Config, frames: bool = True) -> Any:
    """Every failing (row position, field, check) of both inputs: the data-quality gate (without
    ``frames``: only how many)."""
    end_ms = int(dt.datetime.combine(c.next_first_day, dt.time()).replace(tzinfo=dt.UTC).timestamp() * 1000)
    parts = [f"SELECT i, '{col}' AS field, 'not_null' AS check FROM q WHERE {'t' if col == 'queried_at' else col} IS NULL"
             + (" AND NOT bad_queried_at" if col == "queried_at" else "") for col in REQUIRED]
    parts += [
        "SELECT i, 'query_id', 'unique' FROM q WHERE query_id IN "
        "(SELECT query_id FROM q WHERE query_id IS NOT NULL GROUP BY query_id HAVING count(*) > 1)",
        "SELECT i, 'subject_type', 'in_set' FROM q WHERE subject_type NOT IN ('person', 'enterprise')",
        "SELECT i, 'subject_id', 'raw_id' FROM q WHERE regexp_full_match(subject_id, '\\d{17}[\\dXx]')",
        "SELECT i, 'queried_at', 'unparseable' FROM q WHERE bad_queried_at",
        "SELECT i, 'authorized_at', 'unparseable' FROM q WHERE bad_authorized_at",
        "SELECT i, 'authorization_expires', 'unparseable' FROM q WHERE bad_authorization_expires",
        f"SELECT i, 'queried_at', 'after_period_end' FROM q WHERE t >= {end_ms}",
        *[f"SELECT i, '{col}', 'too_long' FROM q WHERE length({col}) > {c.max_text}" for col in LOG_STRINGS],
    ]
    uparts = [
        "SELECT i, 'user_id' AS field, 'not_null' AS check FROM u WHERE user_id IS NULL",
        "SELECT i, 'user_id', 'unique' FROM u WHERE user_id IN (SELECT user_id FROM u GROUP BY user_id HAVING count(*) > 1)",
        f"SELECT i, 'user_id', 'too_long' FROM u WHERE length(user_id) > {c.max_text}",
        "SELECT i, 'status', 'not_null' FROM u WHERE status IS NULL",
        "SELECT i, 'status', 'in_set' FROM u WHERE status NOT IN ('active', 'locked', 'suspended')",
        "SELECT i, 'formal_employee', 'not_null' FROM u WHERE formal IS NULL",
        "SELECT i, 'formal_employee', 'in_set' FROM u WHERE formal NOT IN ('true', 'false')",
        "SELECT i, 'status_since', 'unparseable' FROM u WHERE bad_since",
    ]
    if not frames:
        return sum(con.execute(f"SELECT count(*) FROM ({' UNION ALL '.join(x)})").fetchone()[0]  # type: ignore[index]
                   for x in (parts, uparts))
    log_failures = con.execute(" UNION ALL ".join(parts)).df()
    log_failures.insert(0, "input", "log")
    user_failures = con.execute(" UNION ALL ".join(uparts)).df()
    user_failures.insert(0, "input", "users")
    import pandas as pd

    return pd.concat([log_failures, user_failures], ignore_index=True).sort_values(["input", "i", "field"], ignore_index=True)


def rules(con: duckdb.DuckDBPyConnection, c: Config) -> dict[str, dict[str, int]]:
    """Counts per institution; the flagged rows are left in table ``flagged``."""
    start = int(dt.datetime.combine(c.first_day, dt.time()).replace(tzinfo=dt.UTC).timestamp() * 1000)
    end = int(dt.datetime.combine(c.next_first_day, dt.time()).replace(tzinfo=dt.UTC).timestamp() * 1000)
    days = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(c.working_days)) or "NULL"
    window = c.window_days * _DAY_MS
    rule_cols = UNAUTHORIZED + ABNORMAL
    unauth = " OR ".join(UNAUTHORIZED)
    primary = "CASE " + " ".join(f"WHEN {r} THEN '{r}'" for r in rule_cols) + " END"
    counts_case = "CASE " + " ".join(f"WHEN {r} THEN '{c.rules[r][0]}'" for r in rule_cols) + " END"
    text_case = "CASE " + " ".join(f"WHEN {r} THEN {_quote(c.rules[r][1])}" for r in rule_cols) + " END"
    hits = "concat_ws(';', " + ", ".join(f"CASE WHEN {r} THEN '{r}' END" for r in rule_cols) + ")"
    blocked = _list(c.blocked_statuses)
    person, enterprise = _list(c.person_codes), _list(c.enterprise_codes)
    both = _list(tuple(c.person_codes) + tuple(c.enterprise_codes))
    sql = f"""
    WITH
    -- 30-day rule (二（四）): subjects of an institution with more than `limit` queries in the whole log
    -- are the only candidates; n = the query's place by (time, file order) less the queries at or
    -- before t - 30 days.
    busy_subjects AS (
        SELECT institution, subject_id FROM q GROUP BY ALL HAVING count(*) > {c.repeat_limit}),
    repeat AS (
        SELECT i, row_number() OVER (PARTITION BY institution, subject_id ORDER BY t, i)
                  - count(*) OVER (PARTITION BY institution, subject_id ORDER BY t
                                   RANGE BETWEEN UNBOUNDED PRECEDING AND {window} PRECEDING) AS n
        FROM q SEMI JOIN busy_subjects USING (institution, subject_id)),
    p AS (
        SELECT q.*, t - t % {_DAY_MS} AS day_ms, CAST(make_timestamp(t * 1000) AS DATE) AS day
        FROM q WHERE t >= {start} AND t < {end}),
    busy_days AS (
        SELECT user_id, day FROM p GROUP BY ALL HAVING count(*) > {c.daily_limit}),
    volume AS (
        SELECT i, row_number() OVER (PARTITION BY user_id, day ORDER BY t, i) AS n
        FROM p SEMI JOIN busy_days USING (user_id, day)),
    users AS (
        SELECT * FROM u QUALIFY row_number() OVER (PARTITION BY user_id ORDER BY i) = 1),
    checked AS (
        SELECT p.i, p.query_id, p.t, p.institution, p.user_id, p.subject_id,
            -- 违规查询 (附件3 8.1)
            (p.authorization_id IS NULL OR p.authorized_at IS NULL) AS no_authorization,
            (p.authorization_id IS NOT NULL AND p.authorized_at IS NOT NULL AND p.authorized_at > p.day) AS authorization_after_query,
            (p.authorization_id IS NOT NULL AND p.authorized_at IS NOT NULL AND p.authorization_expires IS NOT NULL
             AND p.day > p.authorization_expires) AS authorization_expired,
            -- 异常查询 (二（四）)
            coalesce((users.status IN {blocked} AND (users.since IS NULL OR p.day >= users.since))
                     OR (users.formal = 'false' AND {str(c.non_formal_abnormal).lower()}), false) AS user_status,
            (p.day NOT IN ({days}) OR p.t - p.day_ms < {c.work_start_ms} OR p.t - p.day_ms > {c.work_end_ms}) AS off_hours,
            coalesce(volume.n > {c.daily_limit}, false) AS daily_volume,
            coalesce(repeat.n > {c.repeat_limit}, false) AS repeat_subject,
            -- 附件3 9.1: a 查询原因 outside the agreed codes of its subject type
            coalesce(p.reason_code IS NOT NULL AND CASE
                WHEN p.subject_type = 'person' THEN p.reason_code NOT IN {person}
                WHEN p.subject_type = 'enterprise' THEN p.reason_code NOT IN {enterprise}
                ELSE p.reason_code NOT IN {both} END, false) AS reason_not_agreed
        FROM p
        LEFT JOIN volume USING (i)
        LEFT JOIN repeat USING (i)
        LEFT JOIN users ON users.user_id = p.user_id),
    once AS (  -- 违规 first: a 违规 query is not also counted as 异常
        SELECT i, query_id, t, institution, user_id, subject_id,
               {", ".join(UNAUTHORIZED)},
               {", ".join(f"({r} AND NOT ({unauth})) AS {r}" for r in ABNORMAL)}
        FROM checked)
    SELECT i + 1 AS row, query_id, strftime(make_timestamp(t * 1000), '%Y-%m-%d %H:%M:%S') AS queried_at,
           institution, user_id, subject_id, {counts_case} AS count, {primary} AS rule, {hits} AS rules,
           {text_case} AS rule_text
    FROM once WHERE {" OR ".join(rule_cols)}
    ORDER BY i"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE flagged AS {sql}")
    counts: dict[str, dict[str, int]] = {}
    for inst, kind, n in con.execute("SELECT institution, count, count(*) FROM flagged GROUP BY ALL ORDER BY ALL").fetchall():
        counts.setdefault(str(inst), {})[str(kind)] = int(n)
    return counts


def run(log: Path, period: str, users: Path | None = None, out: Path | None = None, profile: Path | None = None,
        c: Config | None = None, frames: bool = True) -> Result:
    """Read, check, count and (with ``out``) write the flagged queries and the counts; ``c``: the
    configuration (else read from ``profile``); without ``frames`` the failures are a number and
    the flagged rows are not brought into pandas (the command line: no pandas import)."""
    c = c or config(period, profile)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    con = duckdb.connect()
    # its spill files in the system's temporary folder, not in `.tmp/` of whatever folder it runs in
    con.execute(f"SET temp_directory = {_quote(os.path.join(tempfile.gettempdir(), f'credit-duckdb-{os.getpid()}'))}")
    if os.environ.get("BENCH_DUCKDB_MEMORY_LIMIT"):  # a shared machine: DuckDB's default is 80 % of its memory
        con.execute(f"SET memory_limit = {_quote(os.environ['BENCH_DUCKDB_MEMORY_LIMIT'])}")
    load(con, log, users)
    seconds["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    failures = checks(con, c, frames)
    seconds["checks"] = time.perf_counter() - t0
    if (len(failures) if frames else failures):
        return Result(failures, {}, None, seconds)
    t0 = time.perf_counter()
    counts = rules(con, c)
    seconds["rules"] = time.perf_counter() - t0
    if out is not None:
        t0 = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT * FROM flagged ORDER BY row) TO {_quote(str(out / f'flagged-queries-{period}.csv'))} (HEADER)")
        (out / "summary.json").write_text(json.dumps({"period": period, "counts": counts}, ensure_ascii=False, indent=2) + "\n")
        seconds["write"] = time.perf_counter() - t0
    flagged = con.execute("SELECT * FROM flagged ORDER BY row").df() if frames else None
    return Result(failures, counts, flagged, seconds)


# --- the differential check: regflows' counts, flagged rows and failing rows against the baseline's ---

FLAGGED_COLUMNS = ("row", "query_id", "queried_at", "institution", "user_id", "subject_id", "count", "rule", "rules", "rule_text")


def regflows_result(log: Path, period: str, users: Path | None = None, profile: Path | None = None,
                    partition_rows: int = 0) -> Result:
    """The same run by regflows (read, great-expectations suites, rules), in this process;
    ``partition_rows``: a Parquet log of more rows is run in partitions (regflows/credit/partitions.py)."""
    import tempfile

    from regflows.credit.models import Period
    from regflows.credit.pipeline import QualityFailure, check_inputs, count, read_inputs
    from regflows.credit.settings import thresholds
    from regflows.profile import load_profile

    import pandas as pd

    prof = load_profile(profile or ROOT / "profiles" / "demo.yaml")
    month = Period.parse(period)
    inputs = read_inputs(log, users, partition_rows=partition_rows)
    try:
        with tempfile.TemporaryDirectory(prefix="credit-differential-") as tmp:
            check_inputs(inputs, month, thresholds(prof.settings), Path(tmp))
    except QualityFailure as exc:
        rows = [pd.DataFrame({"input": "log" if r.input_name == "查询日志" else "users", "row": r.failures["行号"],
                              "field": r.failures["字段"]}) for r in exc.reports if not r.success]
        return Result(pd.concat(rows, ignore_index=True), {}, None, {})
    outcome = count(inputs, month, prof, {})
    return Result(pd.DataFrame(columns=["input", "row", "field"]), outcome.rules.counts, outcome.rules.flagged, {})


def differences(ours: Result, theirs: Result, row_base: dict[str, int] | None = None) -> list[str]:
    """What differs between the baseline's result (``ours``) and regflows' (``theirs``): the
    failing (input, row, field) of the checks, the counts per institution, each flagged row."""
    import pandas as pd

    base = row_base or {"log": 1, "users": 2}
    out: list[str] = []
    mine = {(r.input, int(r.i) + base[r.input], r.field) for r in ours.failures.itertuples()}
    other = {(r.input, int(r.row), r.field) for r in theirs.failures.itertuples()}
    if mine != other:
        out.append(f"failing values: only DuckDB {sorted(mine - other)[:10]}, only regflows {sorted(other - mine)[:10]}")
    if ours.counts != theirs.counts:
        out.append(f"counts: DuckDB {ours.counts}, regflows {theirs.counts}")
    if (ours.flagged is None) != (theirs.flagged is None):
        out.append("one side refused the input, the other counted it")
    elif ours.flagged is not None:
        a = ours.flagged[list(FLAGGED_COLUMNS)].astype(str).reset_index(drop=True)
        b = pd.DataFrame({c: theirs.flagged[c].astype(str).to_numpy() for c in FLAGGED_COLUMNS})
        if len(a) != len(b):
            out.append(f"flagged rows: DuckDB {len(a)}, regflows {len(b)}")
        keys = ["row", "query_id"]
        both = a.merge(b, on=keys, how="outer", suffixes=("_duckdb", "_regflows"), indicator=True)
        alone = both[both["_merge"] != "both"]
        if len(alone):
            out.append(f"flagged by one side only ({len(alone)}): {alone[keys + ['_merge']].head(10).to_dict('records')}")
        matched = both[both["_merge"] == "both"]
        for col in FLAGGED_COLUMNS[2:]:
            bad = matched[matched[f"{col}_duckdb"] != matched[f"{col}_regflows"]]
            if len(bad):
                out.append(f"flagged {col} differs on {len(bad)} rows, e.g. "
                           f"{bad[keys + [f'{col}_duckdb', f'{col}_regflows']].head(5).to_dict('records')}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=Path, required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--users", type=Path)
    parser.add_argument("--config", type=Path, help="the configuration as JSON (Config.to_json), else read from the demo profile")
    args = parser.parse_args()
    c = Config.from_json(args.config.read_text()) if args.config else None
    result = run(args.logs, args.period, args.users, args.out, c=c, frames=False)
    if result.failures:
        print(f"data-quality checks failed on {result.failures} values", file=sys.stderr)
        raise SystemExit(3)
    print(json.dumps({"counts": result.counts, "seconds": result.seconds}))


if __name__ == "__main__":
    main()
