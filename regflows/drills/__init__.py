"""Procedure 5: drills (digest section 5; issue 17).

In progress: what is owed per period from the profile's regimes (:mod:`.owed`, rules in
``rules/owed.yaml``), its reminders on the kit's loop (:mod:`.reminders`), the plan (:mod:`.plan`,
events and the default injects in ``rules/scenarios.yaml``) and its approval on the kit's
approvals (:mod:`.approval`, request kind :mod:`.notices`), the run's timeline and records
(:mod:`.run`; the flow is flows/drill_run.py, started by :mod:`.launch`), the measurements
(:mod:`.measure`), the report (:mod:`.report`) and its gaps on the rectification register
(:mod:`.gaps`), and the CLI (:mod:`.cli`). The owed drills' and the gaps' reminders use the kit's
``deadline_reminder``.
"""

from regflows.drills import notices as _notices  # noqa: F401,E402  (registers the plan's approval request)
