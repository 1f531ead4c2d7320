"""regflows' own Apprise plugins, and how to learn why a service failed.

- :mod:`notices.plugins.vendor_checked`: ``dingtalk://``, ``wecombot://``, ``feishu://`` and
  ``lark://`` that count a message as delivered only when the vendor's JSON answer says so
  (Apprise 2.0.1's built-ins trust any HTTP 200), plus ``?base=`` to send through another host.
- :mod:`notices.plugins.outbox`: ``outbox://<person>/<name>``, the embedded default channel that
  writes an ``OutboxMessage`` row in the domain store.

Importing this package only defines things. :func:`install_plugins` registers the plugins in
Apprise's process-wide plugin registry (replacing the four built-ins); it is idempotent and
cheap, so call it before building any ``apprise.Apprise`` that may hold these schemes.

Why a service failed: Apprise 2.0.1's per-service ``NotifyResult`` has status, url, url_id,
attempts and captured logs, but no reason field. Plugins say why at WARNING; Apprise keeps those
lines per attempt. :func:`failure_reason` picks the right line, :func:`vendor_error` parses the
vendor's code out of it.
"""

from __future__ import annotations

import re
import threading

from apprise.manager_plugins import NotificationManager
from apprise.plugins.base import NotifyBase
from apprise.result import AppriseResultStatus, NotifyResult
from apprise.utils.parse import parse_list

from notices.plugins.outbox import NotifyOutbox
from notices.plugins.vendor_checked import CHECKED_PLUGINS, VendorError, vendor_error

__all__ = ["VendorError", "failure_reason", "install", "install_plugins", "installed_schemes", "vendor_error"]

PLUGINS = (*CHECKED_PLUGINS, NotifyOutbox)

_lock = threading.Lock()


def _schemes(plugin: type[NotifyBase]) -> list[str]:
    return [s.lower() for s in parse_list(plugin.secure_protocol, plugin.protocol)]


def installed_schemes() -> dict[str, type]:
    """Which of our schemes currently map to our plugins (all of them after install)."""
    registry = NotificationManager()  # Apprise's process-wide singleton
    return {
        scheme: plugin
        for plugin in PLUGINS
        for scheme in _schemes(plugin)
        if scheme in registry and registry[scheme] is plugin
    }


def install() -> dict[str, type]:
    """Register our plugins for their schemes, replacing Apprise's built-ins. Idempotent.

    Uses ``NotificationManager.add(plugin, force=True)``: the built-in's schema mapping is removed
    (its module stays imported) and ours takes its place, for every ``Apprise`` in the process.
    """
    registry = NotificationManager()
    with _lock:
        for plugin in PLUGINS:
            schemes = _schemes(plugin)
            if all(s in registry and registry[s] is plugin for s in schemes):
                continue
            if not registry.add(plugin, schemas=schemes, force=True):
                raise RuntimeError(f"Apprise refused to register {plugin.__name__} for {schemes}")
    return installed_schemes()


def install_plugins() -> dict[str, type]:
    """Public entry point: make Apprise use regflows' plugins. Returns scheme → plugin class."""
    return install()


_OUR_LINE = re.compile(r"^.+? not delivered: .+$")
_PROBLEM_LEVELS = {"WARNING", "ERROR", "CRITICAL"}


def failure_reason(result: NotifyResult) -> str | None:
    """Why one service (one entry of an ``AppriseResult``) was not delivered; None if it was.

    In order of preference: the last "<service> not delivered: ..." line our plugins log, the
    last WARNING/ERROR line any plugin logged, or the bare status (a TIMEOUT has no log line when
    the call deadline stopped it). Lines are only captured at WARNING or finer (Apprise's default
    ``log_level``) and only if the ``apprise`` logger is not silenced above WARNING.
    """
    if result.status == AppriseResultStatus.SUCCESS:
        return None
    problems = [e.message for e in result.logs() if e.level in _PROBLEM_LEVELS]
    ours = [m for m in problems if _OUR_LINE.match(m)]
    if ours:
        return ours[-1]
    if problems:
        return problems[-1]
    if result.status == AppriseResultStatus.TIMEOUT:
        return f"{result.name}: no answer before the deadline (TIMEOUT)"
    return f"{result.name}: {result.status.name} (no reason was logged)"
