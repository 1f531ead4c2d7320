"""Procedure 3: the quarterly self-inspection (PBOC-102 三（三）; NFRA 23; CUSTINFO 10.2).

Issue 15: the users file (:mod:`.users`), the automatic checks of the users against attachment 3's
numbers (:mod:`.checks`, rules in ``rules/user-checks.yaml``), the leads and their owners
(:mod:`.leads`; the query logs and the monthly rules through ``regflows/kit/querylogs.py``, never
by importing the statistics), the reproducible spot-check sample (:mod:`.sample`), the
vulnerability register (:mod:`.vulns`), the worklist (:mod:`.worklist`, owners' pages
:mod:`.pages`), the report draft and findings workbook (:mod:`.report`), the run
(:mod:`.pipeline`), the rectification register on the kit's obligations (:mod:`.rectification`,
:mod:`.reminders`, :mod:`.owed`, :mod:`.spot_check`, :mod:`.notice`), the report's sign-off (:mod:`.signoff`,
:mod:`.signoff_notices`) and the CLI (:mod:`.cli`, :mod:`.signoff_cli`).
"""

from regflows.inspection import worklist_notices as _notices  # noqa: F401,E402  (registers the procedure's notice kind)
from regflows.inspection import signoff_notices as _signoff_notices  # noqa: F401,E402  (registers the report's sign-off request)
from regflows.inspection import yearfacts as _yearfacts  # noqa: F401,E402  (registers the year's self-inspections for the rating: regflows/kit/yearfacts.py)
