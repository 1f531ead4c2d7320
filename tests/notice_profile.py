"""A test institution whose people's channels point at the local stand-in servers."""

from __future__ import annotations

from typing import Any

import yaml

from regflows.profile import DEMO_PROFILE, Profile


def build_profile(people: dict[str, list[tuple[str, str]]], roles: dict[str, dict[str, Any]] | None = None,
                  settings: dict[str, Any] | None = None, base_url: str = "http://127.0.0.1:4201") -> Profile:
    """people: id -> [(kind, url), ...]; roles are merged over the demo's (demo people stay valid)."""
    data = yaml.safe_load(DEMO_PROFILE.read_text(encoding="utf-8"))
    names = {"a": "甲", "b": "乙", "c": "丙", "d": "丁", "e": "戊"}
    for pid, channels in people.items():
        data["people"].append(
            {"id": pid, "name": f"测试{names.get(pid[-1], pid)}", "channels": [{"kind": k, "url": u} for k, u in channels]}
        )
    data["roles"].update(roles or {})
    data["settings"].update(settings or {})
    data["public_base_url"] = base_url
    return Profile.model_validate(data)
