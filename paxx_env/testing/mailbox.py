"""The mails one test sent, read from Mailpit's API.

Mailpit is one catcher for every worker and every test, so each test sends from an address of
its own: EMAIL_FROM with the test's namespace added to the local part as a plus tag
(`noreply+paxx-...@app.localhost`). The mailbox is Mailpit's search `from:NAMESPACE`; after the
test the same search deletes them. A mail sent with another sender is not in any test's
mailbox, and Mailpit keeps its newest 500 messages by default (MP_MAX_MESSAGES).
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from email.utils import formataddr, parseaddr
from typing import Any

from paxx_env.testing.webapi import call

WHAT = "Mailpit"
#: How often `wait` asks Mailpit again.
POLL_SECONDS = 0.05


def sender_for(email_from: str, namespace: str) -> str:
    """EMAIL_FROM with `namespace` as a plus tag of its address (`noreply+NS@host`)."""
    name, address = parseaddr(email_from)
    local, _, domain = (address or "noreply@localhost").partition("@")
    return formataddr((name, f"{local}+{namespace}@{domain}"))


class Mailbox:
    """The mails sent from this test's address, oldest first."""

    def __init__(self, api: str, sender: str, namespace: str) -> None:
        self.api = api.rstrip("/")
        #: The From this test's mails carry (paxx_settings's EMAIL_FROM).
        self.sender = sender
        self.namespace = namespace
        self._query = urllib.parse.urlencode({"query": f"from:{namespace}", "limit": 500})

    @property
    def address(self) -> str:
        """The bare address of `sender`."""
        return parseaddr(self.sender)[1]

    def messages(self) -> list[dict[str, Any]]:
        """Summaries of this test's mails (ID, From, To, Subject, Snippet...), oldest first."""
        found = call("GET", f"{self.api}/api/v1/search?{self._query}", what=WHAT)
        messages: list[dict[str, Any]] = (found or {}).get("messages") or []
        return list(reversed(messages))  # Mailpit lists the newest first

    def message(self, message_id: str) -> dict[str, Any]:
        """One whole message: headers, Text, HTML, Attachments."""
        found: dict[str, Any] = call(
            "GET", f"{self.api}/api/v1/message/{urllib.parse.quote(message_id)}", what=WHAT
        )
        return found

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The test's mails once there are at least `count` (AssertionError after `timeout` s)."""
        found = self._poll(lambda messages: len(messages) >= count, timeout)
        if found is None:
            raise AssertionError(
                f"expected {count} mail(s) from {self.address} within {timeout:g} s, "
                f"Mailpit has {len(self.messages())}"
            )
        return found

    def wait_for(
        self, *, subject: str | None = None, to: str | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """The whole first mail with this `subject` and/or recipient, once it has arrived."""

        def matches(summary: dict[str, Any]) -> bool:
            recipients = [r.get("Address", "") for r in summary.get("To") or []]
            return (subject is None or summary.get("Subject") == subject) and (
                to is None or to in recipients
            )

        found = self._poll(lambda messages: any(map(matches, messages)), timeout)
        if found is None:
            wanted = ", ".join(f"{k}={v!r}" for k, v in (("subject", subject), ("to", to)) if v)
            raise AssertionError(
                f"no mail from {self.address} with {wanted or 'anything'} within {timeout:g} s"
            )
        return self.message(next(m for m in found if matches(m))["ID"])

    def _poll(
        self, done: Callable[[list[dict[str, Any]]], bool], timeout: float
    ) -> list[dict[str, Any]] | None:
        deadline = time.monotonic() + timeout
        while True:
            messages = self.messages()
            if done(messages):
                return messages
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_SECONDS)

    def clear(self) -> None:
        """Delete this test's mails from Mailpit."""
        call("DELETE", f"{self.api}/api/v1/search?{self._query}", what=WHAT)
