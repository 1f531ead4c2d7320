"""违规查询 and 异常查询: each query of the period counted once, 违规 before 异常.

Pure and vectorised (numpy over factorised codes): a national bank's month is millions of rows.
Times are compared as Asia/Shanghai wall-clock milliseconds; days are Shanghai calendar days.
Rows dated before the period are history for the 30-day rule only and are never counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from calendars import is_working_day as official_is_working_day
from regflows.credit.models import RULES, Span, Thresholds

_MS_PER_DAY = 86_400_000
_YEAR_1000_S = int(np.datetime64("1000-01-01", "s").astype("int64"))
_YEAR_10000_S = int(np.datetime64("9999-12-31T23:59:59", "s").astype("int64")) + 1
#: The order in which the rules name a query's primary rule. 违规 (8.1) is counted before 异常
#: (二（四）): a query that is both is one 违规查询, counted once (attachment 2 counts 笔, queries;
#: 8.1 is the graver finding). An interpretation, written in the README's table.
ABNORMAL_ORDER: tuple[str, ...] = ("user_status", "off_hours", "daily_volume", "repeat_subject", "reason_not_agreed")
_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default "str"
UNAUTHORIZED_ORDER: tuple[str, ...] = ("no_authorization", "authorization_after_query", "authorization_expired")


@dataclass
class RuleResult:
    """The flagged queries of the period (one row each) and per-institution counts."""

    flagged: pd.DataFrame
    counts: dict[str, dict[str, int]]  # institution code → {"abnormal_query": n, "unauthorized_query": n}
    period_rows: int
    warnings: list[str] = field(default_factory=list)
    regions: dict[str, str] = field(default_factory=dict)  # institution code in the period → its region in the log
    unknown_users: list[str] = field(default_factory=list)  # users of the period's queries the users file lacks


def _local_ms(instants: pd.Series) -> np.ndarray:
    """Shanghai wall-clock milliseconds since the epoch (naive local time as an integer; NaT is
    the int64 minimum). A view where possible: read-only, never written to."""
    return instants.dt.tz_localize(None).astype("datetime64[ms]").to_numpy().view("int64")


def _date_ms(dates: pd.Series) -> np.ndarray:
    """Midnight of each date in ms; missing → the int64 minimum (NaT's own bit pattern), a
    sentinel that compares as 'absent'. A view of the column where possible: never written to."""
    return dates.astype("datetime64[ms]").to_numpy().view("int64")


def unauthorized_rules(log: pd.DataFrame, day_ms: np.ndarray, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """违规查询 (PBOC-102 attachment 3, 8.1): a query without the subject's authorization.

    - ``no_authorization``: no authorization id or no authorization date. Why both: an
      authorization that cannot be dated cannot be shown to precede the query (8.1).
    - ``authorization_after_query``: the authorization is dated after the query's day (8.1:
      "授权日期晚于查询日期"); dated the same day is valid.
    - ``authorization_expired``: the query's day is after ``authorization_expires``; the expiry
      day itself is still valid.
    """
    absent = np.iinfo(np.int64).min
    take = (lambda a: a[rows]) if rows is not None else (lambda a: a)  # ``rows``: the positions ``day_ms`` is for
    auth = take(_date_ms(log["authorized_at"]))
    expires = take(_date_ms(log["authorization_expires"]))
    no_auth = take(log["authorization_id"].isna().to_numpy()) | (auth == absent)
    return {
        "no_authorization": no_auth,
        "authorization_after_query": ~no_auth & (auth > day_ms),
        "authorization_expired": ~no_auth & (expires != absent) & (day_ms > expires),
    }


def off_hours_rule(local_ms: np.ndarray, day_ms: np.ndarray, thresholds: Thresholds,
                   is_working_day: Callable[[dt.date], bool]) -> np.ndarray:
    """异常查询 (PBOC-102 II(4)): a non-working day, or before/after working hours.

    The official calendar decides (a make-up Saturday such as 2025-09-28 is a working day, a
    holiday Monday is not). Both bounds are inside: 08:30:00 and 18:00:00 are not abnormal.
    """
    if len(day_ms) == 0:
        return np.zeros(0, dtype=bool)
    first = int(day_ms.min())
    index = (day_ms - first) // _MS_PER_DAY  # a month has ~31 distinct days: ask the calendar once each
    origin = dt.date(1970, 1, 1) + dt.timedelta(days=first // _MS_PER_DAY)
    working_by_index = np.array([is_working_day(origin + dt.timedelta(days=i)) for i in range(int(index.max()) + 1)],
                                dtype=bool)
    working = working_by_index[index]
    tod = local_ms - day_ms
    start = (thresholds.work_start.hour * 3600 + thresholds.work_start.minute * 60 + thresholds.work_start.second) * 1000
    end = (thresholds.work_end.hour * 3600 + thresholds.work_end.minute * 60 + thresholds.work_end.second) * 1000
    return ~working | (tod < start) | (tod > end)


def _rank_in_groups(sorted_keys: list[np.ndarray]) -> np.ndarray:
    """1-based position of each sorted row inside its run of equal keys."""
    n = len(sorted_keys[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    changed = np.zeros(n, dtype=bool)
    changed[0] = True
    for k in sorted_keys:
        changed[1:] |= k[1:] != k[:-1]
    pos = np.arange(n)
    start = np.maximum.accumulate(np.where(changed, pos, 0))
    return pos - start + 1


def daily_volume_rule(user_codes: np.ndarray, day_ms: np.ndarray, local_ms: np.ndarray, limit: int) -> np.ndarray:
    """异常查询 (PBOC-102 II(4)): a user's queries of one day beyond the ``limit``-th (250th).

    Queries are ranked by time (file order breaks ties); only the excess is flagged: the 250th
    is not abnormal, the 251st is. Every query counts towards the volume, 违规 ones included.
    """
    out = np.zeros(len(user_codes), dtype=bool)
    if len(user_codes) == 0:
        return out
    day_index = (day_ms - day_ms.min()) // _MS_PER_DAY
    key = user_codes.astype(np.int64) * (int(day_index.max()) + 1) + day_index
    sizes = np.bincount(key)
    busy = np.flatnonzero(sizes[key] > limit)  # only user-days beyond the limit need ranking
    if len(busy) == 0:
        return out
    order = busy[np.lexsort((local_ms[busy], key[busy]))]
    rank = _rank_in_groups([key[order]])
    out[order] = rank > limit
    return out


def repeat_subject_rule(group_codes: np.ndarray, local_ms: np.ndarray, limit: int, window_days: int) -> np.ndarray:
    """异常查询 (PBOC-102 II(4)): the 4th and later query of one subject by one institution
    within a rolling 30 days, i.e. more than ``limit`` queries in (t - 30 days, t].

    The caller passes history rows from before the period too: a subject queried three times
    late last month makes this month's first query the 4th.
    """
    out = np.zeros(len(group_codes), dtype=bool)
    if len(group_codes) == 0:
        return out
    # only subjects queried more than `limit` times in the whole log can reach the threshold
    dense_all = np.unique(group_codes, return_inverse=True)[1] if group_codes.max() > 4 * len(group_codes) else group_codes
    candidates = np.flatnonzero(np.bincount(dense_all)[dense_all] > limit)
    if len(candidates) == 0:
        return out
    dense = np.unique(dense_all[candidates], return_inverse=True)[1].astype(np.int64)
    times = local_ms[candidates]
    rel = times - int(times.min())
    span = int(rel.max()) + 1
    if (int(dense.max()) + 1) * span >= 2**62:
        raise OverflowError("查询日志时间跨度过大，无法计算 30 日内重复查询：请只提供统计期间及前 30 日的记录")
    key = dense * span + rel
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    lo = np.searchsorted(sorted_key, sorted_key - window_days * _MS_PER_DAY, side="right")
    group_start = np.searchsorted(sorted_key, dense[order] * span, side="left")
    lo = np.maximum(lo, group_start)  # the window never reaches into another subject's rows
    count_sorted = np.arange(len(order)) - lo + 1
    out[candidates[order]] = count_sorted > limit
    return out


def reason_not_agreed_rule(log: pd.DataFrame, thresholds: Thresholds, rows: np.ndarray | None = None) -> np.ndarray:
    """异常查询 lead (PBOC-102 附件3 9.1, 不得用于约定外用途): a 查询原因 code outside its subject
    type's set of agreed purposes. Personal and enterprise reports number their reasons
    differently (01 is 贷后管理 for a person, 贷前审查 for an enterprise), so each type has its own
    set; a subject type outside both (a data-quality failure of its own) is held against both.

    A finding, not bad data: the query is counted and kept in the flagged file for the quarterly
    self-inspection (PBOC-102 三（三）: leads verified one by one against the credit business).
    An empty code stays a data-quality failure (8.3: the purpose must be registered).
    """
    codes = log["reason_code"] if rows is None else log["reason_code"].iloc[rows]
    kinds = log["subject_type"] if rows is None else log["subject_type"].iloc[rows]
    person, enterprise = list(thresholds.reason_codes), list(thresholds.enterprise_reason_codes)
    bad = (
        ((kinds == "person") & ~codes.isin(person))
        | ((kinds == "enterprise") & ~codes.isin(enterprise))
        | (~kinds.isin(["person", "enterprise"]) & ~codes.isin(person + enterprise))
    )
    return (bad & codes.notna()).fillna(False).astype(bool).to_numpy()


def user_status_rule(log: pd.DataFrame, day_ms: np.ndarray, users: pd.DataFrame | None,
                     user_codes: tuple[np.ndarray, pd.Index] | None = None,
                     thresholds: Thresholds | None = None) -> np.ndarray:
    """异常查询 (PBOC-102 II(4)): a query by a user who was locked, suspended or not a formal
    employee at the time. ``status_since`` dates the status; without it the status holds for the
    whole period. Before ``status_since`` the user is taken as active.

    Which statuses count and whether a non-formal employee's query counts are settings
    (``thresholds.blocked_statuses``, ``thresholds.non_formal_abnormal``): 附件3 5.4 locks and stops
    users (a locked user must not query), 5.7 allows users for formal employees only; without ``thresholds``: locked and
    suspended, non-formal counted.

    ``user_codes`` is ``pd.factorize(log["user_id"])`` (or the codes of the rows ``day_ms`` is for)
    when the caller has it: the users file is then looked up once per distinct user, not per query.
    """
    if users is None or users.empty:
        return np.zeros(len(day_ms), dtype=bool)
    u = users.drop_duplicates("user_id").set_index("user_id")
    codes, names = user_codes if user_codes is not None else pd.factorize(log["user_id"])
    # one entry per distinct user plus a last one for a missing user_id (code -1 indexes it)
    keys = pd.Series(pd.concat([pd.Series(names, dtype=log["user_id"].dtype),
                                pd.Series([None], dtype=log["user_id"].dtype)], ignore_index=True))
    status = keys.map(u["status"]).to_numpy(dtype=object)[codes]
    formal = keys.map(u["formal_employee"]).to_numpy(dtype=object)[codes]
    since = _date_ms(keys.map(u["status_since"]).astype("datetime64[ms]"))[codes]
    statuses = list(thresholds.blocked_statuses) if thresholds is not None else ["locked", "suspended"]
    non_formal = thresholds.non_formal_abnormal if thresholds is not None else True
    blocked = np.isin(status, statuses)
    in_force = (since == np.iinfo(np.int64).min) | (day_ms >= since)
    return (blocked & in_force) | ((formal == "false") & non_formal)


def _first_positions(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct values in ascending order, position of the first occurrence of each), without
    sorting the whole array: factorize numbers values by first appearance, so the running
    maximum of its codes steps up exactly at each first occurrence."""
    if len(codes) == 0:
        return codes[:0], np.zeros(0, dtype=np.int64)
    lo, hi = int(codes.min()), int(codes.max())
    if codes.dtype.kind in "iu" and hi - lo < len(codes):
        # a few distinct small integers (factorised codes: the institutions): the least position
        # of each, with no hash table (pandas' was 40 MB a million rows, the rules' peak in a
        # partition: issue 18)
        first = np.full(hi - lo + 1, len(codes), dtype=np.int64)
        np.minimum.at(first, codes - lo, np.arange(len(codes), dtype=np.int64))
        present = np.flatnonzero(first < len(codes))
        return (present + lo).astype(codes.dtype), first[present]
    seq, uniques = pd.factorize(codes)
    np.maximum.accumulate(seq, out=seq)
    steps = np.concatenate(([0], np.flatnonzero(seq[1:] != seq[:-1]) + 1))
    uniques = np.asarray(uniques)
    order = np.argsort(uniques, kind="stable")
    return uniques[order], steps[order]


def _str_column(values: list[str], take: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """``values[take]`` as pandas' pyarrow-backed str (a take, no Python object per row); no
    rows: an empty list, as the frame of no flagged queries has always been built."""
    return pd.array(values, dtype="str").take(take) if len(take) else []  # type: ignore[return-value]


def _rule_columns(checks: dict[str, np.ndarray], flagged_pos: np.ndarray) -> tuple[pd.api.extensions.ExtensionArray, ...]:
    """(count, rule, rules, rule_text) of each flagged query.

    The rules hit by a query form a bit pattern; there are at most 2**8 patterns, so each
    pattern's texts are built once and spread by ``np.unique``'s inverse.
    """
    names = UNAUTHORIZED_ORDER + ABNORMAL_ORDER
    pattern = np.zeros(len(flagged_pos), dtype=np.int64)
    for bit, name in enumerate(names):
        pattern |= checks[name][flagged_pos].astype(np.int64) << bit
    patterns, inverse = np.unique(pattern, return_inverse=True)
    hit_lists = [[name for bit, name in enumerate(names) if (int(p) >> bit) & 1] for p in patterns]
    primary = [h[0] for h in hit_lists]
    return (_str_column([RULES[p][0] for p in primary], inverse), _str_column(primary, inverse),
            _str_column([";".join(h) for h in hit_lists], inverse), _str_column([RULES[p][1] for p in primary], inverse))


def _format_local(local_ms: np.ndarray, instants: pd.Series) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """"YYYY-MM-DD HH:MM:SS" of each query: from the Shanghai wall-clock ms (floored to the
    second) by pyarrow for years 1000-9999, else by pandas from the ``instants`` themselves."""
    if len(local_ms) == 0:
        return []  # type: ignore[return-value]  # the frame of no flagged queries as it has always been built
    seconds = np.floor_divide(local_ms, 1000)
    if seconds.min() < _YEAR_1000_S or seconds.max() >= _YEAR_10000_S:
        return instants.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    text = pc.strftime(pa.array(seconds, type=pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
    return pd.array(text, dtype="str")


def _string_codes(values: pd.Series, parts: int = 8, min_rows: int = 1_000_000) -> tuple[np.ndarray, int]:
    """(codes, number of distinct values): equal strings ⇔ equal codes, like ``pd.factorize``
    (other numbering), for a column of mostly distinct strings (``subject_id``).

    Why not ``pd.factorize``: hashing 10 million distinct strings in one table costs over 1 GB at
    its peak and runs on one core. The values are split by a function of each value (length and
    last byte), so equal strings always share a part; each part is encoded on its own, two at a
    time (pyarrow releases the GIL), and the parts' codes are offset to stay apart. Falls back to
    ``pd.factorize`` for anything but one pyarrow chunk without missing values.
    """
    data = getattr(values.array, "_pa_array", None)
    if data is None or data.num_chunks != 1 or data.null_count or not pa.types.is_large_string(data.type) \
            or len(data) < min_rows:
        codes, uniques = pd.factorize(values)
        return codes.astype(np.int64, copy=False), len(uniques)
    arr = data.chunk(0)
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    lengths = np.diff(offsets)
    raw = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, dtype=np.uint8)
    last = np.where(lengths > 0, np.take(raw, offsets[1:] - 1, mode="clip"), 0)
    part = ((lengths + last) % parts).astype(np.int8)
    del lengths, last
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(parts + 1))
    del part

    def encode(i: int) -> tuple[np.ndarray, np.ndarray, int]:
        pos = order[bounds[i]:bounds[i + 1]]
        encoded = arr.take(pa.array(pos)).dictionary_encode()
        return pos, encoded.indices.to_numpy(zero_copy_only=False), len(encoded.dictionary)

    codes = np.empty(len(arr), dtype=np.int64)
    distinct = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for pos, indices, n in pool.map(encode, range(parts)):
            codes[pos] = indices.astype(np.int64) + distinct
            distinct += n
    pa.default_memory_pool().release_unused()
    return codes, distinct


def unknown_users_warning(unknown: list[str]) -> list[str]:
    """The warning of queries by users the users file does not list (their status is unknown)."""
    if not unknown:
        return []
    return [f"用户清单中没有 {len(unknown)} 个查询用户（如 {', '.join(unknown[:5])}），无法判断其状态"]


def apply_rules(log: pd.DataFrame, period: Span, thresholds: Thresholds, users: pd.DataFrame | None = None,
                is_working_day: Callable[[dt.date], bool] | None = None, *,
                repeat_hits: np.ndarray | None = None, daily_hits: np.ndarray | None = None) -> RuleResult:
    """Flag each query of the period once: 违规 first (8.1), then 异常 (II(4)).

    ``repeat_hits`` and ``daily_hits``: for one partition of a big month
    (:mod:`regflows.credit.partitions`), the rows (the frame's index: positions in the whole
    file, sorted) that the 30-day and the daily-volume rules flagged over the whole month: those
    two rules need rows of other partitions, so the partitions' own computation takes them."""
    if is_working_day is None:
        is_working_day = official_is_working_day
    warnings: list[str] = []
    local_all = _local_ms(log["queried_at"]) if len(log) else np.zeros(0, dtype=np.int64)
    start_ms = int(np.datetime64(period.first_day, "ms").astype("int64"))
    end_ms = int(np.datetime64(period.next_first_day, "ms").astype("int64"))
    in_period = (local_all >= start_ms) & (local_all < end_ms)

    # 30-day rule on every row (history included), before narrowing to the period.
    inst_all, _ = pd.factorize(log["institution"])
    if repeat_hits is not None:
        repeat_all = rows_among(log.index, repeat_hits)
    else:
        subj_all, n_subjects = _string_codes(log["subject_id"])
        group_all = inst_all.astype(np.int64) * max(n_subjects, 1) + subj_all
        del subj_all
        repeat_all = repeat_subject_rule(group_all, local_all, thresholds.repeat_limit, thresholds.repeat_window_days)
        del group_all

    # Work on whole columns and index them with `idx`: a copy of the period's rows would double
    # the memory of a 10-million-row month.
    idx = np.flatnonzero(in_period)
    del in_period
    n = len(idx)
    local = local_all[idx]
    day = local - np.mod(local, _MS_PER_DAY)
    del local_all
    unauth = unauthorized_rules(log, day, idx)
    user_all, user_names = pd.factorize(log["user_id"])
    user = user_all[idx]
    del user_all
    abnormal = {
        "user_status": user_status_rule(log, day, users, (user, user_names), thresholds),
        "off_hours": off_hours_rule(local, day, thresholds, is_working_day),
        "daily_volume": (rows_among(log.index, daily_hits)[idx] if daily_hits is not None
                         else daily_volume_rule(user, day, local, thresholds.daily_limit)),
        "repeat_subject": repeat_all[idx],
        "reason_not_agreed": reason_not_agreed_rule(log, thresholds, idx),
    }
    del repeat_all
    unknown: list[str] = []
    if users is not None and n:
        present = np.flatnonzero(np.bincount(user[user >= 0], minlength=len(user_names)))
        seen = {str(user_names[c]) for c in present}
        unknown = sorted(seen - set(users["user_id"].dropna()))
        warnings += unknown_users_warning(unknown)

    any_unauth = np.zeros(n, dtype=bool)
    for name in UNAUTHORIZED_ORDER:
        any_unauth |= unauth[name]
    any_abnormal = np.zeros(n, dtype=bool)
    for name in ABNORMAL_ORDER:
        abnormal[name] = abnormal[name] & ~any_unauth
        any_abnormal |= abnormal[name]

    flagged_pos = np.flatnonzero(any_unauth | any_abnormal)
    count_col, rule_col, rules_col, text_col = _rule_columns({**unauth, **abnormal}, flagged_pos)
    rows = idx[flagged_pos]

    def column(name: str) -> pd.api.extensions.ExtensionArray | np.ndarray:
        values = log[name]
        if values.dtype == _STR and len(rows):  # what the frame constructor infers from the objects anyway
            return values.array.take(rows)
        return values.iloc[rows].to_numpy()

    flagged = pd.DataFrame({
        "row": log.index[rows].to_numpy(),
        "query_id": column("query_id"),
        "queried_at": _format_local(local[flagged_pos], log["queried_at"].iloc[rows]),
        "institution": column("institution"),
        "user_id": column("user_id"),
        "subject_id": column("subject_id"),
        "count": count_col,
        "rule": rule_col,
        "rules": rules_col,
        "rule_text": text_col,
    })
    counts: dict[str, dict[str, int]] = {}
    if len(flagged):
        table = flagged.groupby(["institution", "count"]).size()
        for (inst, kind), n_rows in table.items():
            counts.setdefault(str(inst), {})[str(kind)] = int(n_rows)
    _, first_pos = _first_positions(inst_all[idx])
    regions = {}
    for pos in first_pos:
        code, region = log["institution"].iat[idx[pos]], log["region"].iat[idx[pos]]
        regions[str(code)] = "" if pd.isna(region) else str(region)
    return RuleResult(flagged=flagged, counts=counts, period_rows=n, warnings=warnings, regions=regions,
                      unknown_users=unknown)


def rows_among(index: pd.Index, hits: np.ndarray) -> np.ndarray:
    """Which rows of ``index`` (positions in the whole file) are among the sorted ``hits``: a
    partition's rows among those a whole-month step found (rules here, the ids' uniqueness in
    :mod:`regflows.credit.quality`)."""
    if len(hits) == 0 or len(index) == 0:
        return np.zeros(len(index), dtype=bool)
    if isinstance(index, pd.RangeIndex) and index.step == 1:
        # a partition's own rows (read_log numbers them so): mark the hits that fall in them,
        # without the four row-length integer arrays of the general case (32 MB a million rows)
        out = np.zeros(len(index), dtype=bool)
        lo, hi = np.searchsorted(hits, [index.start, index.stop])
        out[hits[lo:hi] - index.start] = True
        return out
    rows = np.asarray(index, dtype=np.int64)
    at = np.minimum(np.searchsorted(hits, rows), len(hits) - 1)
    return hits[at] == rows
