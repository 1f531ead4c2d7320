"""Procedure 5: drills (digest section 5; issue 17).

In progress: what is owed per period from the profile's regimes (:mod:`.owed`, rules in
``rules/owed.yaml``), its reminders on the kit's loop (:mod:`.reminders`) and the CLI
(:mod:`.cli`: ``regflows drill owed``, ``regflows drill fulfil``). The plan, the run through the
incident pipeline in drill mode, the measurements and the report come next (issue 17, items 2-5).
No notice kinds of its own yet: the reminders use the kit's ``deadline_reminder``.
"""
