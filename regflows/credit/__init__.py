"""Monthly credit-information security statistics (PBOC-102 III(2), attachment 2).

Every month each credit-information access institution reports the 征信信息安全情况统计表: counts
of 异常查询, 违规查询, 非法提供, 违规使用 and 信用报告泄漏 (笔) per reporting institution, a zero
report when nothing happened. This package reads the query log, checks it with
great-expectations, applies the rules, counts the events of the store and writes the table.

Modules stay small and importable without great-expectations (it takes seconds to import): only
:mod:`regflows.credit.quality` imports it, inside its functions.

Loading any part of the procedure registers its notice kind (:mod:`regflows.credit.notices`), so
that a flow run in a worker process, or any module that sends, never meets an unknown kind.
"""

from regflows.credit import notices as _notices  # noqa: F401  (registers the procedure's notice kind)
from regflows.credit import logsource as _logsource  # noqa: F401,E402  (registers the query-log source: regflows/kit/querylogs.py)
from regflows.credit import yearfacts as _yearfacts  # noqa: F401,E402  (registers the year's tables for the rating: regflows/kit/yearfacts.py)
