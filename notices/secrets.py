"""Resolve the secrets a channel URL names, at send time, and only then.

The profile holds ``{env:NAME}`` and ``{secret:NAME}`` placeholders; the values exist only in the
sending process's memory, in the URL handed to Apprise. Every resolved value is returned too, so
that the caller can redact it from anything it writes (logs, ledger, artifacts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

from regflows.profile import PLACEHOLDER


class SecretMissing(LookupError):
    """A referenced secret is not available; the message names the reference, never a value."""


@dataclass(frozen=True)
class ResolvedUrl:
    url: str
    secrets: tuple[str, ...]


def _lookup(kind: str, name: str) -> str:
    if kind == "env":
        value = os.environ.get(name)
        if not value:
            raise SecretMissing(f"环境变量 {name} 未设置（渠道地址引用了 {{env:{name}}}）")
        return value
    try:
        # lazy: Prefect costs ~2 s to import (measured) and reads its settings when imported;
        # `regflows up` loads this module before it points Prefect at its server.
        from prefect.blocks.system import Secret

        value = Secret.load(name).get()
    except ValueError as exc:
        raise SecretMissing(f"Prefect Secret 块 {name} 不存在（渠道地址引用了 {{secret:{name}}}）") from exc
    except Exception as exc:  # the server being unreachable is the same finding for the sender
        raise SecretMissing(f"无法读取 Prefect Secret 块 {name}：{type(exc).__name__}") from exc
    if not isinstance(value, str) or not value:
        raise SecretMissing(f"Prefect Secret 块 {name} 为空或不是字符串")
    return value


def resolve_url(url: str) -> ResolvedUrl:
    """Substitute every placeholder with its value, URL-quoted so any character is safe."""
    secrets: list[str] = []

    def substitute(match) -> str:  # type: ignore[no-untyped-def]
        value = _lookup(match.group(1), match.group(2))
        secrets.append(value)
        quoted = quote(value, safe="")
        if quoted != value:
            secrets.append(quoted)
        return quoted

    return ResolvedUrl(PLACEHOLDER.sub(substitute, url), tuple(secrets))
