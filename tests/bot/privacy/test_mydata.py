"""``mydata``: everyone gets a summary of what the bot holds about them and the whole of it as a JSON file —
a member with history, an outsider with almost nothing — and never another person's rows."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.console import ConsoleAdapter
from bot.delivery.model import DeliveryKind, copy_key
from bot.email.address import mask
from bot.i18n import _
from bot.linking.codes import canonical, code_hash
from bot.model import Identity, Role
from bot.privacy.model import SCHEMA, SCHEMA_VERSION
from bot.privacy.service import KIND_LABELS
from storage.database import to_db_time
from tests.bot.privacy.helpers import MEMBER, OTHER, export, member_with_history, say
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


ADDRESS = "zq-reader@example.org"
MADE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


async def _email_of(h: Harness, person_id: int) -> None:
    """Give the person an email address with its manage key and a sign-up waiting for its link (as the web's
    subscribe form leaves them), written as the email store writes them."""
    db = h.app.db
    stamp = to_db_time(MADE)
    await db.execute("INSERT INTO identities (platform, external_id, person_id, display_name) VALUES"
                     " ('email', ?, ?, ?)", (ADDRESS, person_id, ADDRESS))
    await db.execute("INSERT INTO email_keys (address, key, created_at) VALUES (?, ?, ?)",
                     (ADDRESS, "K" * 32, stamp))
    await db.execute("INSERT INTO email_signups (person_id, address, topic_id, mode, language, zone, token,"
                     " created_at, expires_at) SELECT ?, ?, id, 'weekly', 'fr', 'Europe/Paris', ?, ?, ? FROM topics"
                     " WHERE slug = 'elections'", (person_id, ADDRESS, "T" * 32, stamp,
                                                  to_db_time(MADE + timedelta(days=3650))))


async def test_the_digest_queue_resources_added_and_email_signups_and_keys_are_in_it(h: Harness) -> None:
    await say(h, MEMBER, "subscribe disinformation mode:daily")
    await h.say("demo-admin", f"role grant test:{MEMBER} coordinator disinformation")
    await say(h, MEMBER, "resource add https://example.org/zq-guide Field guide for zq topics:disinformation")
    preview = await h.say("demo-admin", "announce new disinformation Waiting for the digest")
    confirm = next(a.command for a in preview.message.actions if a.command.startswith("announce confirm"))
    await h.say("demo-admin", confirm)
    await h.app.run_due()
    announcement = int(confirm.rsplit(" ", 1)[1])
    profile = await h.app.store.people.profile_of(Identity("test", MEMBER))
    assert profile is not None
    await _email_of(h, profile.person.id)

    reply = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    message = reply.message
    assert message.attachment is not None
    fields = {f.name: f.value for f in message.fields}
    assert f"announcement #{announcement} in disinformation (daily digest)" in fields["Waiting for your digest"]
    assert "Field guide for zq" in fields["Resources you added"]
    shown = mask(ADDRESS)
    assert f"{shown} for elections (waiting for the link in the mail" in fields["Email sign-ups"], fields
    assert f"a link to manage {shown}, made" in fields["Email manage links"]
    assert ADDRESS not in message.plain_text(), "a chat reply masks an address"

    text = message.attachment.data.decode("utf-8")
    assert "K" * 32 not in text and "T" * 32 not in text, "never a key or a token: they are the links' secrets"
    data = export(message.attachment.data)
    assert [(d["announcement_id"], d["topic"], d["mode"]) for d in data["digest_queue"]] == [
        (announcement, "disinformation", "daily")]
    (resource,) = data["resources_added"]
    assert resource["title"] == "Field guide for zq" and resource["topics"] == ["disinformation"]
    assert resource["url"] == "https://example.org/zq-guide" and ISO_UTC.match(resource["created_at"])
    (signup,) = data["email_signups"]
    assert (signup["address"], signup["topic"], signup["mode"], signup["state"]) == (
        ADDRESS, "elections", "weekly", "waiting")
    assert signup["created_at"] == "2026-11-20T08:00:00Z" and signup["confirmed_at"] is None
    assert data["email_manage_keys"] == [{"address": ADDRESS, "created_at": "2026-11-20T08:00:00Z",
                                          "confirmed_at": None}]

    await h.app.run_due()  # once the digest goes out, nothing waits for it any more
    h.clock.advance(days=1)
    await h.app.run_due()
    again = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    assert again.message.attachment is not None
    assert export(again.message.attachment.data)["digest_queue"] == []


async def test_the_language_and_zone_in_use_are_named_with_their_source_as_whoami_does(h: Harness) -> None:
    fields = {f.name: f.value for f in (await h.say("passer-by", "mydata")).message.fields}
    assert fields["Settings"].startswith("language English (the coalition default), time zone "), fields
    assert fields["Settings"].split("time zone ", 1)[1].split(", preferred")[0].endswith("(the coalition default)")

    hinted = await h.say("zq-slack-user", "mydata", platform="test", locale="es-419")
    assert hinted.language == "es"
    settings = hinted.message.fields[2].value  # the field order is the same in every language
    source = h.app.services.translator.render(_("from your {platform} settings", platform="test"), "es")
    assert f"español ({source})" in settings, settings

    await h.say("passer-by", "settings language fr")
    await h.say("passer-by", "settings timezone Africa/Nairobi")
    chosen = await h.say("passer-by", "mydata")
    settings = chosen.message.fields[2].value
    mine = h.app.services.translator.render(_("your setting"), "fr")
    assert f"français ({mine})" in settings and f"Africa/Nairobi ({mine})" in settings, settings


def test_every_delivery_kind_has_words() -> None:
    """A kind without words would show as stored (``announcement-copy``): a new kind must add its own."""
    assert set(KIND_LABELS) == set(DeliveryKind)


async def test_an_announcement_copy_is_named_in_words(h: Harness) -> None:
    await say(h, MEMBER, "whoami")
    profile = await h.app.store.people.profile_of(Identity("test", MEMBER))
    assert profile is not None
    now = h.clock.now()
    await h.app.db.execute(
        "INSERT INTO deliveries (dedupe_key, kind, person_id, payload, status, not_before, created_at)"
        " VALUES (?, ?, ?, '{}', 'cancelled', ?, ?)",
        (copy_key(7, "test", profile.person.id), DeliveryKind.ANNOUNCEMENT_COPY.value, profile.person.id,
         to_db_time(now), to_db_time(now)))
    reply = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    latest = {f.name: f.value for f in reply.message.fields}["Latest messages"]
    assert "a copy of an announcement on another of your accounts cancelled" in latest, latest
    assert "announcement-copy" not in latest


async def test_link_codes_issued_and_wrong_codes_typed_are_in_it_never_the_code(h: Harness) -> None:
    """A code their account gave (when, its state — never the code, its hash, or who typed it) and the wrong codes
    they typed (when); the summary says the same in words."""
    issued = await h.say(MEMBER, "link", platform="test", platform_role=Role.MEMBER)
    assert issued.message.title is not None
    code = issued.message.title.rsplit(" ", 1)[1]
    wrong = await h.say(MEMBER, "link 2222-3333", platform="test", platform_role=Role.MEMBER)
    assert wrong.message.is_error
    claimed = await h.say(OTHER, f"link {code}", platform="test", platform_role=Role.MEMBER)  # someone types it
    assert not claimed.message.is_error, claimed.message.plain_text()

    reply = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    assert reply.message.attachment is not None
    raw = reply.message.attachment.data.decode("utf-8")
    data = export(reply.message.attachment.data)
    assert [(c["platform"], c["state"]) for c in data["link_codes"]] == [("test", "proposed")]
    assert set(data["link_codes"][0]) == {"platform", "state", "issued_at", "expires_at"}
    assert all(ISO_UTC.match(c["issued_at"]) and ISO_UTC.match(c["expires_at"]) for c in data["link_codes"])
    assert [a["platform"] for a in data["link_code_attempts"]] == ["test"]
    assert ISO_UTC.match(data["link_code_attempts"][0]["at"])
    plain = canonical(code)
    assert plain is not None
    for secret in (code, plain, code_hash(plain), OTHER):
        assert secret not in raw, secret
    fields = {f.name: f.value for f in reply.message.fields}
    assert "a code from your test account" in fields["Link codes"]
    assert "typed, waiting for your confirmation" in fields["Link codes"], fields["Link codes"]
    assert fields["Wrong link codes typed"].startswith("on test, "), fields["Wrong link codes typed"]

    h.clock.advance(minutes=11)
    later = await h.say(MEMBER, "mydata", platform="test", platform_role=Role.MEMBER)
    assert later.message.attachment is not None
    assert [c["state"] for c in export(later.message.attachment.data)["link_codes"]] == ["expired"]
    other = await h.say(OTHER, "mydata", platform="test", platform_role=Role.MEMBER)
    assert other.message.attachment is not None
    theirs = export(other.message.attachment.data)
    assert theirs["link_codes"] == [] and theirs["link_code_attempts"] == []
