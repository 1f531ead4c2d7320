"""The procedure kit: the parts every regulatory procedure is built from.

Obligations with deadlines and evidence, reminder policies and the one reminder loop,
maker-checker approvals on signed links, official documents (.docx, .xlsx), rule files and
their Chinese error messages, Beijing time. A procedure (``regflows.incident``,
``regflows.credit``, the next three) composes these; the kit never imports a procedure.
"""
