"""Notices: who is told what, through which channel, with evidence.

The full fan-out (templates, routing, Apprise, retries, acknowledgement) is the notices issue.
Until it lands, :mod:`notices.role_outbox` gives the few notices the foundation sends
(ledger anchors, calendar warnings) a durable, inspectable home: the local outbox.
"""
