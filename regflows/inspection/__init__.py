"""Procedure 3: the quarterly self-inspection (PBOC-102 三（三）; NFRA 23; CUSTINFO 10.2).

In progress (issue 15): so far its pure parts only: the users file (:mod:`.users`), the
automatic checks of the users against attachment 3's numbers (:mod:`.checks`, rules in
``rules/user-checks.yaml``) and the reproducible spot-check sample (:mod:`.sample`). No notice
kinds, tasks, flows or deployments yet, hence no ``Procedure`` entry in regflows/procedures.py.
"""
