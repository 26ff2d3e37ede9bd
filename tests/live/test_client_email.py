"""The mail module paxx generates (feature `email`), against the Mailpit stand-in.

The Mailpit stand-in is aiosmtpd plus Mailpit's JSON API (../shared/offline-hub/README.md).
What it does NOT implement, so these tests cannot show it: STARTTLS/TLS, checking SMTP
credentials (any are accepted), and downloading one attachment part; the tests read the raw
message (`/api/v1/message/{ID}/raw`) to compare attachment bytes instead.

The Resend backend talks to an HTTP API on the internet, which does not exist here; its test
replaces only the transport under httpx (httpx.MockTransport) and checks the request the
module builds: method, URL, headers and JSON body. Everything above the transport is the
module's real code.
"""

# No `from __future__ import annotations`: FastAPI must see the route annotations as objects.

import base64
import email
import email.policy
import email.utils
import json
from collections.abc import Callable
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from pydantic import SecretStr

from live.conftest import App

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def _mailpit_message(app: App, subject: str) -> tuple[dict[str, Any], bytes]:
    """The message with this subject, as Mailpit's API shows it, and its raw source."""
    async with httpx.AsyncClient(base_url=app.env["MAILPIT_URL"]) as client:
        listed = (await client.get("/api/v1/messages")).json()["messages"]
        matching = [m for m in listed if m["Subject"] == subject]
        assert len(matching) == 1, [m["Subject"] for m in listed]
        found = (await client.get(f"/api/v1/message/{matching[0]['ID']}")).json()
        raw = (await client.get(f"/api/v1/message/{matching[0]['ID']}/raw")).content
    return found, raw


def _addresses(entries: list[dict[str, str]]) -> list[str]:
    return [entry["Address"] for entry in entries]


async def test_email_standin_smtp_html_text_attachments_read_back(
    app_with: Callable[..., App],
) -> None:
    app = app_with("email")
    mail = app.module("mail")
    settings = mail.EmailSettings()
    assert settings.email_backend == "smtp"
    assert settings.smtp_port == int(app.env["SMTP_PORT"])

    async with mail.open_mailer() as mailer:
        message_id = await mailer.send(
            to=["Ada Lovelace <ada@example.com>", "bob@example.com"],
            cc="carol@example.com",
            bcc=["hidden@example.com"],
            reply_to="support@example.com",
            subject="Your report — März",
            text="Hello Ada,\nthe report is attached.\n",
            html="<p>Hello <b>Ada</b>, the report is attached.</p>",
            attachments=[
                mail.Attachment("report.csv", b"id,total\n1,2\n"),
                mail.Attachment("logo.png", PNG),
                mail.Attachment("data.bin", b"\x00\x01", "application/x-custom"),
            ],
            headers={"X-Campaign": "reports"},
        )

    found, raw = await _mailpit_message(app, "Your report — März")
    assert found["MessageID"] == message_id.strip("<>")
    sender_name, sender_address = email.utils.parseaddr(app.env["EMAIL_FROM"])
    assert (found["From"]["Name"], found["From"]["Address"]) == (sender_name, sender_address)
    assert _addresses(found["To"]) == ["ada@example.com", "bob@example.com"]
    assert found["To"][0]["Name"] == "Ada Lovelace"
    assert _addresses(found["Cc"]) == ["carol@example.com"]
    assert _addresses(found["Bcc"]) == ["hidden@example.com"]  # from the SMTP envelope
    assert _addresses(found["ReplyTo"]) == ["support@example.com"]
    assert found["Text"] == "Hello Ada,\nthe report is attached.\n"
    assert found["HTML"].strip() == "<p>Hello <b>Ada</b>, the report is attached.</p>"
    assert [(a["FileName"], a["ContentType"], a["Size"]) for a in found["Attachments"]] == [
        ("report.csv", "text/csv", 13),
        ("logo.png", "image/png", len(PNG)),
        ("data.bin", "application/x-custom", 2),
    ]

    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and b"hidden@example.com" not in raw, "Bcc stays off headers"
    assert parsed["X-Campaign"] == "reports"
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(preferencelist=("related", "html", "plain"))
    assert body is not None
    attached = {part.get_filename(): part.get_content() for part in parsed.iter_attachments()}
    assert attached == {
        "report.csv": "id,total\n1,2\n",
        "logo.png": PNG,
        "data.bin": b"\x00\x01",
    }


async def test_email_standin_templates_escape_html_and_refuse_bad_input(
    app_with: Callable[..., App],
) -> None:
    app = app_with("email")
    mail = app.module("mail")
    assert (app.root / app.package / "templates" / "email" / "welcome.html").is_file()

    async with mail.open_mailer() as mailer:
        await mailer.send_template(
            "welcome", {"name": "<Ada & Bob>"}, to="ada@example.com", subject="Welcome"
        )
        import jinja2

        with pytest.raises(jinja2.UndefinedError):  # a missing variable, before sending
            await mailer.send_template("welcome", {}, to="ada@example.com", subject="Oops")
        with pytest.raises(mail.EmailError, match="no template"):
            await mailer.send_template("absent", {}, to="ada@example.com", subject="Oops")
        with pytest.raises(mail.EmailError, match="line breaks"):
            await mailer.send(to="ada@example.com", subject="Hi\nBcc: evil@example.com", text="x")
        with pytest.raises(mail.EmailError, match="recipient"):
            await mailer.send(to=[], subject="Nobody", text="x")
        with pytest.raises(mail.EmailError, match="body"):
            await mailer.send(to="ada@example.com", subject="Empty")
        with pytest.raises(mail.EmailError, match="not an email address"):
            await mailer.send(to="ada", subject="Bad address", text="x")

    found, _ = await _mailpit_message(app, "Welcome")
    assert "<h1>Welcome, &lt;Ada &amp; Bob&gt;!</h1>" in found["HTML"]
    assert found["Text"].startswith("Welcome, <Ada & Bob>!\n")
    async with httpx.AsyncClient(base_url=app.env["MAILPIT_URL"]) as client:
        subjects = [m["Subject"] for m in (await client.get("/api/v1/messages")).json()["messages"]]
    assert subjects == ["Welcome"], "nothing else was sent"


async def test_email_standin_fastapi_lifespan_and_dependency(
    app_with: Callable[..., App],
) -> None:
    app = app_with("email")
    mail = app.module("mail")
    web = FastAPI(lifespan=mail.mail_lifespan)

    @web.post("/signup")
    async def signup(
        address: str, mailer: Annotated[mail.Mailer, Depends(mail.get_mailer)]
    ) -> dict[str, str]:
        sent = await mailer.send_template(
            "welcome", {"name": address.split("@")[0]}, to=address, subject="Signed up"
        )
        return {"id": sent}

    async with web.router.lifespan_context(web):
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            answer = await client.post("/signup", params={"address": "grace@example.com"})
            assert answer.status_code == 200, answer.text

    found, _ = await _mailpit_message(app, "Signed up")
    assert found["MessageID"] == answer.json()["id"].strip("<>")
    assert _addresses(found["To"]) == ["grace@example.com"]
    assert "Welcome, grace!" in found["Text"]


async def test_email_mock_transport_resend_request(app_with: Callable[..., App]) -> None:
    """EMAIL_BACKEND=resend: the request sent to Resend, seen at the transport (no internet)."""
    app = app_with("email")
    mail = app.module("mail")
    seen: list[httpx.Request] = []

    def resend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if json.loads(request.content)["subject"] == "refused":
            return httpx.Response(422, json={"name": "validation_error", "message": "bad from"})
        return httpx.Response(200, json={"id": "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"})

    settings = mail.EmailSettings(email_backend="resend", resend_api_key="re_test_123")
    assert isinstance(settings.resend_api_key, SecretStr)
    assert "re_test_123" not in repr(settings)
    transport = httpx.MockTransport(resend)
    async with httpx.AsyncClient(transport=transport) as http:
        async with mail.open_mailer(settings, http_client=http) as mailer:
            assert isinstance(mailer.backend, mail.ResendBackend)
            sent = await mailer.send_template(
                "welcome",
                {"name": "Ada"},
                to=["ada@example.com"],
                cc="carol@example.com",
                bcc="hidden@example.com",
                reply_to="support@example.com",
                subject="Welcome to Resend",
                attachments=[mail.Attachment("logo.png", PNG)],
                headers={"X-Entity-Ref-ID": "42"},
            )
            assert sent == "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
            text, html = await mailer.render("welcome", {"name": "Ada"})
            with pytest.raises(mail.EmailError, match="422: bad from"):
                await mailer.send(to="ada@example.com", subject="refused", text="x")
        assert not http.is_closed, "a client passed in is left to its owner"

    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.resend.com/emails"
    assert request.headers["authorization"] == "Bearer re_test_123"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body == {
        "from": app.env["EMAIL_FROM"],
        "to": ["ada@example.com"],
        "cc": ["carol@example.com"],
        "bcc": ["hidden@example.com"],
        "reply_to": ["support@example.com"],
        "subject": "Welcome to Resend",
        "text": text,
        "html": html,
        "headers": {"X-Entity-Ref-ID": "42"},
        "attachments": [
            {
                "filename": "logo.png",
                "content": base64.b64encode(PNG).decode(),
                "content_type": "image/png",
            }
        ],
    }
    assert text is not None and text.startswith("Welcome, Ada!")
    assert html is not None and "<h1>Welcome, Ada!</h1>" in html
    assert base64.b64decode(body["attachments"][0]["content"]) == PNG

    with pytest.raises(mail.EmailError, match="RESEND_API_KEY"):
        mail.create_backend(mail.EmailSettings(email_backend="resend"))
