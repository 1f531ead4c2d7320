"""Procedure 3: the quarterly self-inspection (PBOC-102 三（三）; NFRA 23; CUSTINFO 10.2).

In progress (issue 15): the users file (:mod:`.users`), the automatic checks of the users
against attachment 3's numbers (:mod:`.checks`, rules in ``rules/user-checks.yaml``), the
reproducible spot-check sample (:mod:`.sample`), the rectification register on the kit's
obligations (:mod:`.rectification`, :mod:`.reminders`, :mod:`.owed`, :mod:`.spot_check`,
:mod:`.notice`) and the CLI (:mod:`.cli`). No notice kinds, tasks, flows or deployments yet: the
``Procedure`` entry in regflows/procedures.py mounts the CLI only.
"""
