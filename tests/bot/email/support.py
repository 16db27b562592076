"""What the email tests share: links to a pretend site, the followers service wired to a running harness, and a
recording adapter for platform "email" so confirmation mails and posts reach the delivery worker."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.email import SiteLinks
from bot.email.model import EmailConfig
from bot.email.service import EmailFollowers
from bot.model import Identity
from bot.topics.model import Topic
from tests.support import Harness, RecordingAdapter

SITE = "https://site.example"
CONFIRM_LINK = re.compile(re.escape(SITE) + r"/email/confirm/([A-Za-z0-9_-]{32})")
MANAGE_LINK = re.compile(re.escape(SITE) + r"/email/manage/([A-Za-z0-9_-]{32})")


def email_adapter() -> RecordingAdapter:
    return RecordingAdapter(platform="email")


def followers(h: Harness, config: EmailConfig | None = None) -> EmailFollowers:
    s = h.app.services
    return EmailFollowers(h.app.store, h.clock, s.subscriptions, s.topics, s.notifier, SiteLinks(SITE), config,
                          people=s.people, languages=s.translator.languages)


@dataclass
class Mail:
    """One mail the recording adapter took, as text."""

    to: str
    language: str | None
    text: str

    def confirm_token(self) -> str:
        match = CONFIRM_LINK.search(self.text)
        assert match is not None, self.text
        return match.group(1)

    def manage_key(self) -> str:
        match = MANAGE_LINK.search(self.text)
        assert match is not None, self.text
        return match.group(1)


async def mails(h: Harness) -> list[Mail]:
    """Send what is due, then every mail sent so far."""
    await h.app.run_due()
    return [Mail(s.target, s.message.language, s.message.plain_text()) for s in h.adapter.sent
            if s.kind == "dm"]


async def person_of(h: Harness, address: str) -> int | None:
    record = await h.app.store.people.identity(Identity("email", address))
    return record.person_id if record else None


async def topic(h: Harness, slug: str) -> Topic:
    found = await h.app.store.topics.by_slug(slug)
    assert found is not None
    return found


async def count(h: Harness, table: str) -> int:
    row = await h.app.store.db.fetch_one(f"SELECT count(*) FROM {table}")
    assert row is not None
    return int(row[0])
