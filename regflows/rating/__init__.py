"""Procedure 4: the annual rating self-assessment (PBOC-102 六; 附件3 考核评级管理办法).

Issue 16: the 100-point model as data (``rules/model-2018.yaml``, :mod:`.model`), the yearly
evidence file and its template (:mod:`.evidence`), the template's auto-fill from the other
procedures' records through the kit (:mod:`.gather`, ``regflows/kit/yearfacts.py``), the scoring
engine (:mod:`.scoring`), the year's run writing the report, the score sheet and summary.json
(:mod:`.pipeline`, :mod:`.report`), their sign-off on the kit's approvals (:mod:`.signoff`, its
request kind :mod:`.signoff_notices`), the rated year, its due days and the objection window
(:mod:`.schedule`) as obligations (:mod:`.owed`) with reminders (:mod:`.reminders`), and the CLI
(:mod:`.cli`, :mod:`.commands`).
"""

from regflows.rating import signoff_notices as _signoff_notices  # noqa: F401  (registers the report's sign-off request)
