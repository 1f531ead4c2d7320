"""Interim delivery of role notices to the local outbox (the embedded default channel).

The foundation must already tell the compliance role about ledger anchors and missing calendar
years. Real fan-out through Apprise belongs to the notices layer; until it exists, a notice to a
role is written to the outbox (domain store), once per member, with an audit-ledger entry. A
member whose channels are not outbox channels is named in a warning: the notice did not reach
their real channel, and that must not be silent.
"""

from __future__ import annotations

from dataclasses import dataclass

from regflows import ledger
from regflows.profile import Profile
from regflows.store import db
from regflows.store.models import OutboxMessage


@dataclass(frozen=True)
class RoleNoticeResult:
    stored: list[str]  # outbox targets written
    not_reached: list[str]  # person ids whose real channels were not used


def tell_role(profile: Profile, role_kind: str, title: str, body: str, url: str | None = None) -> RoleNoticeResult:
    roles = profile.roles_of_kind(role_kind)
    if not roles:
        raise LookupError(f"机构配置中没有 kind: {role_kind} 的角色")
    members: list[str] = []
    for role in roles.values():
        members += [m for m in role.members if m not in members]
    stored, not_reached = [], []
    with db.session(url) as s:
        for pid in members:
            person = profile.person(pid)
            outbox = [c for c in person.channels if c.kind == "outbox"]
            if not outbox:
                not_reached.append(pid)
            target = outbox[0].url if outbox else f"outbox://{pid}/undelivered"
            s.add(OutboxMessage(target=target, title=title, body=body))
            stored.append(target)
        ledger.append_in(
            s,
            "notice.outbox",
            f"role:{role_kind}",
            {"title": title, "targets": stored, "not_reached": not_reached},
        )
    return RoleNoticeResult(stored, not_reached)
