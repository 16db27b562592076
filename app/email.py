"""Email's part of the composition root: the followers service the web pages call, and the fourth platform
the delivery worker sends through (an SMTP server, or a folder of .eml files for the demo).

Off unless ``[email]`` is configured (``enabled``, a sender, and a server or a folder): a forgotten section must
never start mailing people. Mails carry absolute links to the site, so they are built from ``[web] base_url``,
else from the address the site listens on.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.email.delivery import EmailAdapter
from adapters.email.settings import EmailSettings
from adapters.email.transport import FolderTransport, MailTransport, SmtpTransport
from app.services import Services
from app.settings import Settings
from bot.clock import Clock
from bot.delivery.config import Outlet
from bot.delivery.pacing import TokenBucket
from bot.email.health import EmailHealth
from bot.email.model import PLATFORM, EmailConfig
from bot.email.service import EmailFollowers
from bot.model import Identity
from bot.ports import Store


@dataclass(frozen=True, slots=True)
class SiteLinks:
    """:class:`bot.email.links.EmailLinks` on the site's public address."""

    base: str

    def confirm_url(self, token: str) -> str:
        return f"{self.base}/email/confirm/{token}"

    def manage_url(self, key: str) -> str:
        return f"{self.base}/email/manage/{key}"

    def unsubscribe_url(self, key: str) -> str:
        return f"{self.base}/email/unsubscribe/{key}"


def site_base(settings: Settings) -> str:
    """Where readers reach the site: ``[web] base_url``, else the address it listens on (fine on one machine;
    anything mailed to others needs ``base_url``, which the README says)."""
    if settings.web.base_url:
        return settings.web.base_url
    host = settings.web.host
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.web.port}"


def email_config(settings: EmailSettings) -> EmailConfig:
    return EmailConfig(pause_after=settings.bounce_pause)


def followers(settings: Settings, services: Services, store: Store) -> EmailFollowers:
    """The service behind the subscribe form and the confirm, manage and unsubscribe pages."""
    return EmailFollowers(store, services.clock, services.subscriptions, services.topics, services.notifier,
                          SiteLinks(site_base(settings)), email_config(settings.email), people=services.people)


def transport(settings: EmailSettings) -> MailTransport:
    if settings.to_folder is not None:
        return FolderTransport(settings.to_folder)
    assert settings.host is not None  # EmailSettings.configured
    password = settings.password.get_secret_value() if settings.password is not None else None
    return SmtpTransport(settings.host, settings.default_port, security=settings.security, user=settings.user,
                         password=password, timeout=settings.timeout)


def email_outlet(settings: Settings, services: Services, store: Store, clock: Clock,
                 email: EmailFollowers) -> Outlet:
    """The email platform, paced at ``[email] per_second`` (a burst of at least one mail)."""
    mail = settings.email
    assert mail.from_address is not None and mail.domain is not None  # EmailSettings.configured

    async def zone_of(address: str) -> str:
        return await services.people.zone_for(Identity(PLATFORM, address))

    adapter = EmailAdapter(transport(mail), from_address=mail.from_address, coalition_name=settings.coalition.name,
                           list_id_domain=mail.domain, links=SiteLinks(site_base(settings)), keys=email.key_for,
                           health=EmailHealth(store.email_health, email_config(mail)), zone_of=zone_of,
                           translator=services.translator, clock=clock, language_of=email.language_of)
    return Outlet(adapter, TokenBucket(mail.per_second, max(1.0, mail.per_second)))
