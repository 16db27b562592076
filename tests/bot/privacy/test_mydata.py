"""``mydata``: everyone gets a summary of what the bot holds about them and the whole of it as a JSON file —
a member with history, an outsider with almost nothing — and never another person's rows."""

from __future__ import annotations

import io
import re
from pathlib import Path

from adapters.console import ConsoleAdapter
from bot.model import Role
from bot.privacy.model import SCHEMA, SCHEMA_VERSION
from tests.bot.privacy.helpers import MEMBER, OTHER, export, member_with_history
from tests.support import Harness

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def test_a_member_sees_subscriptions_requests_rsvps_authored_deliveries_and_audit(h: Harness) -> None:
    announcement = await member_with_history(h)
    reply = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    message = reply.message
    assert not message.is_error and message.attachment is not None
    assert message.attachment.content_type == "application/json"
    assert message.attachment.filename.endswith(".json")
    fields = {f.name: f.value for f in message.fields}
    assert f"test:{MEMBER}" in fields["Accounts"]
    assert "disinformation" in fields["Subscriptions"] and "whrd-safety (pending)" in fields["Requests"]
    assert "Disinformation working group call: yes" in fields["RSVPs"]
    assert f"announcement #{announcement} in disinformation (sent" in fields["Written by you"], fields
    assert "sent" in fields["Messages to you"]

    data = export(message.attachment.data)
    assert data["schema"] == SCHEMA and data["schema_version"] == SCHEMA_VERSION
    assert ISO_UTC.match(data["generated_at"]) and ISO_UTC.match(data["person"]["created_at"])
    assert data["person"]["display_name"] == MEMBER
    assert data["person"]["settings"]["preferred_platform"] == "test"
    assert [(i["platform"], i["external_id"]) for i in data["identities"]] == [("test", MEMBER)]
    assert [(s["topic"], s["mode"]) for s in data["subscriptions"]] == [("disinformation", "immediate")]
    assert [(r["topic"], r["status"]) for r in data["subscription_requests"]] == [("whrd-safety", "pending")]
    assert [(r["meeting_id"], r["answer"]) for r in data["rsvps"]] == [(1, "yes")]
    assert [(g["role"], g["topic"]) for g in data["grants"]] == [("coordinator", "disinformation")]
    (authored,) = data["authored"]
    assert authored["kind"] == "announcement" and authored["id"] == announcement and authored["state"] == "sent"
    deliveries = data["deliveries"]
    kinds = sorted(d["kind"] for d in deliveries["items"])
    assert kinds == ["announcement", "report"], "their own copy and their report, never the other reader's"
    assert deliveries["counts"] == {"sent": 2}
    assert all(ISO_UTC.match(d["sent_at"]) for d in deliveries["items"])
    actions = {(a["role"], a["action"]) for a in data["audit"]}
    assert ("subject", "role.grant") in actions and ("actor", "announce.send") in actions
    assert OTHER not in message.attachment.data.decode("utf-8")
    assert export(message.attachment.data) == data  # valid UTF-8 JSON, read back the same


async def test_the_same_data_gives_the_same_file(h: Harness) -> None:
    await member_with_history(h)
    first = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    second = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    assert first.message.attachment is not None and second.message.attachment is not None
    assert first.message.attachment.data == second.message.attachment.data


async def test_an_outsider_gets_their_little_data_too(h: Harness) -> None:
    reply = await h.say("passer-by", "mydata")
    assert not reply.message.is_error and reply.message.attachment is not None
    data = export(reply.message.attachment.data)
    assert [(i["platform"], i["external_id"]) for i in data["identities"]] == [("console", "passer-by")]
    assert data["subscriptions"] == [] and data["authored"] == [] and data["grants"] == []
    assert data["deliveries"] == {"counts": {}, "items": []}
    fields = {f.name: f.value for f in reply.message.fields}
    assert fields["Subscriptions"] == "none"


async def test_the_console_writes_the_file(h: Harness, tmp_path: Path) -> None:
    out = io.StringIO()
    console = ConsoleAdapter(h.app.dispatcher.handle, user="demo-member", callers=h.app.services.people,
                             translator=h.app.services.translator, output=out, attachments_dir=tmp_path / "exports")
    await console.run(io.StringIO("/mydata\n/quit\n"))
    (written,) = (tmp_path / "exports").iterdir()
    assert f"(file written: {written})" in out.getvalue()
    assert export(written.read_bytes())["identities"][0]["external_id"] == "demo-member"
