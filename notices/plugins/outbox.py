"""``outbox://<person>/<name>``: the embedded default channel, a row in the domain store.

Why: on a fresh machine with no credentials the demo institution's people must still be told
something, and a test or an inspector must be able to read what they were told. Each message
becomes an ``OutboxMessage`` (target, title, body) in the regflows store, so it goes through
Apprise like any real channel and is judged by the same per-service result.

Why a full plugin class and not Apprise's ``@notify`` decorator: the decorator registers at
import time, and its plugins print every URL as just ``outbox://``, so a result could not say
which person's outbox failed. This class keeps the person and the name in ``url()``.

The store is ``REGFLOWS_DATABASE_URL`` (or the default in ``REGFLOWS_HOME``), read at each send,
so the plugin follows the environment of the process that sends. Sends run in Apprise's worker
threads; each uses its own session from the shared engine. ``send()`` returns True only after the
row is committed; any failure to store returns False and logs why at WARNING (first line of the
error, database password masked, never the message itself).
"""

from __future__ import annotations

from typing import Any

from apprise.common import NotifyFormat, NotifyType
from apprise.exception import AppriseImproperlyConfigured
from apprise.plugins.base import NotifyBase
from sqlalchemy.engine import make_url

from regflows import config
from regflows.store import db
from regflows.store.models import OutboxMessage

__all__ = ["NotifyOutbox"]

#: OutboxMessage.title is String(300), which PostgreSQL enforces. Apprise's default overflow mode
#: ("upstream") passes long titles through untouched, so the plugin shortens them itself.
TITLE_MAX = 300


def _fit(title: str, body: str) -> tuple[str, str]:
    """A title too long for the column is shortened, and kept whole at the top of the body."""
    if len(title) <= TITLE_MAX:
        return title, body
    return title[: TITLE_MAX - 1] + "…", f"{title}\n\n{body}"


def _describe(exc: BaseException, database_url: str | None) -> str:
    """One line about a storage failure: no SQL parameters (they hold the message), no password."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    if database_url:
        try:
            url = make_url(database_url)
        except Exception:  # an unparseable URL: hide it whole
            return text.replace(database_url, "<database url>")
        if url.password:
            text = text.replace(database_url, url.render_as_string(hide_password=True))
            text = text.replace(str(url.password), "***")
    return text


class NotifyOutbox(NotifyBase):
    """Writes each message to the regflows store's outbox (``outbox_message``)."""

    service_name = "regflows outbox"
    secure_protocol = "outbox"

    # A database insert needs no rate limit (NotifyBase defaults to 5.5 s between sends).
    request_rate_per_sec = 0
    # Store what the caller wrote, in its own format: no conversion.
    notify_format = (NotifyFormat.TEXT, NotifyFormat.MARKDOWN, NotifyFormat.HTML)

    templates = ("{schema}://{person}/{name}",)
    template_tokens = dict(
        NotifyBase.template_tokens,
        person={"name": "Person id", "type": "string", "required": True},
        name={"name": "Outbox name", "type": "string"},
    )

    def __init__(self, person: str | None = None, name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.person = (person or "").strip()
        self.name = (name or "").strip("/ ")
        if not self.person:
            msg = "An outbox:// URL needs a person: outbox://<person>/<name>."
            self.logger.warning(msg)
            raise AppriseImproperlyConfigured(msg)

    @property
    def target(self) -> str:
        """The outbox address as written in the profile, without any user or password part."""
        path = f"/{self.quote(self.name, safe='/')}" if self.name else ""
        return f"{self.secure_protocol}://{self.quote(self.person, safe='')}{path}"

    @property
    def url_identifier(self) -> tuple[str, str, str]:
        return (self.secure_protocol, self.person, self.name)

    def url(self, privacy: bool = False, *args: Any, **kwargs: Any) -> str:
        params = self.url_parameters(*args, privacy=privacy, **kwargs)
        return f"{self.target}/?{self.urlencode(params)}"

    def send(self, body: str, title: str = "", notify_type: NotifyType = NotifyType.INFO, **kwargs: Any) -> bool:
        title, body = _fit(title or "", body or "")
        database_url = None
        try:
            database_url = config.database_url()
            with db.session(database_url) as s:
                s.add(OutboxMessage(target=self.target, title=title, body=body))
        except Exception as exc:  # any failure to store is a failed delivery, said at WARNING
            self.logger.warning("%s not delivered: store failed: %s", self.target, _describe(exc, database_url))
            return False
        self.logger.info("Stored outbox message for %s.", self.target)
        return True

    @staticmethod
    def parse_url(url: str) -> dict[str, Any] | None:
        results = NotifyBase.parse_url(url, verify_host=False)
        if not results:
            return results
        results["person"] = NotifyOutbox.unquote(results.get("host") or "")
        results["name"] = "/".join(NotifyOutbox.split_path(results.get("fullpath")))
        return results
