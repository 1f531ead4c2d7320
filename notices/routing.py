"""A notice goes to roles, never to addresses: resolve roles to people and their channels.

People appear once even when they hold several of the roles addressed. Each recipient keeps the
role they were reached through (the first in the order given), so that a delivery failure can
be raised to that role's deputy.
"""

from __future__ import annotations

from dataclasses import dataclass

from regflows.profile import Channel, Profile


@dataclass(frozen=True)
class Recipient:
    person_id: str
    name: str
    role_key: str
    channels: tuple[Channel, ...]


class RoutingError(LookupError):
    pass


def role_keys(profile: Profile, roles: list[str]) -> list[str]:
    """Accept role keys ("on_call") or role kinds ("compliance", "division"), in order."""
    keys: list[str] = []
    for wanted in roles:
        if wanted in profile.roles:
            found = [wanted]
        else:
            found = list(profile.roles_of_kind(wanted))
        if not found:
            raise RoutingError(f"机构配置中没有角色 {wanted}")
        keys += [k for k in found if k not in keys]
    return keys


def recipients(profile: Profile, roles: list[str]) -> list[Recipient]:
    out: list[Recipient] = []
    seen: set[str] = set()
    for key in role_keys(profile, roles):
        for pid in profile.roles[key].members:
            if pid in seen:
                continue
            seen.add(pid)
            person = profile.person(pid)
            out.append(Recipient(pid, person.name, key, tuple(person.channels)))
    return out


def person_as_recipient(profile: Profile, person_id: str, role_key: str) -> Recipient:
    person = profile.person(person_id)
    return Recipient(person_id, person.name, role_key, tuple(person.channels))


def deputy_of(profile: Profile, role_key: str) -> Recipient | None:
    role = profile.roles[role_key]
    if role.deputy is None:
        return None
    return person_as_recipient(profile, role.deputy, role_key)
