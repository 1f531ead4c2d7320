"""Procedure 4: the annual rating self-assessment (PBOC-102 六; 附件3 考核评级管理办法).

In progress (issue 16): the 100-point model as data (``rules/model-2018.yaml``, :mod:`.model`),
the yearly evidence file and its template (:mod:`.evidence`), the template's auto-fill from the
other procedures' records through the kit (:mod:`.gather`, ``regflows/kit/yearfacts.py``), the
scoring engine (:mod:`.scoring`) and the CLI (:mod:`.cli`). No notice kinds, tasks, flows,
documents, approvals or deployments yet: the ``Procedure`` entry in regflows/procedures.py mounts
the CLI only.
"""
