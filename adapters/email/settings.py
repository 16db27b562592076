"""``[email]`` in settings.toml: the email adapter's own section (the composition root reads the file).

No aiosmtplib here: ``check-config`` loads this without opening anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

_DOMAIN = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


class EmailSettings(BaseModel):
    enabled: bool = False
    """Email stays off unless asked for: a forgotten ``[email]`` section must never start mailing people."""
    host: str | None = None
    port: int | None = Field(default=None, gt=0, le=65535)
    """``None``: the usual port for ``security`` (25, 587 for STARTTLS, 465 for TLS)."""
    security: Literal["none", "starttls", "tls"] = "starttls"
    """``starttls`` requires the server to offer STARTTLS (no silent fall-back to plain text); ``tls`` is
    implicit TLS from the first byte (port 465); ``none`` only for a relay on the same host."""
    user: str | None = None
    password: SecretStr | None = None
    from_address: str | None = None
    per_second: float = Field(default=5.0, gt=0)
    """Mails handed to the server each second: most relays throttle or flag senders that go faster."""
    to_folder: Path | None = None
    """Write each mail as an .eml file in this folder instead of sending it (the demo, a dry run)."""
    list_id_domain: str | None = None
    """The domain of ``Message-ID`` and ``List-Id``; ``None``: the domain of ``from_address``."""
    bounce_pause: int = Field(default=3, ge=1)
    """Consecutive refusals of an address (5xx at RCPT) after which nothing more is sent to it."""
    timeout: float = Field(default=30.0, gt=0)
    """Seconds each network step (connect, each command, the message body) may take."""

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> EmailSettings:
        """``enabled`` with something missing stops the start with what is missing, rather than leaving email
        quietly off while the operator believes followers are being mailed."""
        if self.list_id_domain is not None and not _DOMAIN.fullmatch(self.list_id_domain):
            raise ValueError(f"[email] list_id_domain must be a domain name, not {self.list_id_domain!r}")
        if self.enabled:
            missing = [name for name, value in (("from_address", self.from_address),
                                                ("host or to_folder", self.host or self.to_folder)) if not value]
            if self.from_address and "@" not in self.from_address:
                missing.append("a from_address with a domain")
            if missing:
                raise ValueError(f"[email] enabled = true needs {' and '.join(missing)}")
        return self

    @property
    def default_port(self) -> int:
        return self.port or {"none": 25, "starttls": 587, "tls": 465}[self.security]

    @property
    def domain(self) -> str | None:
        """The domain for ``Message-ID`` and ``List-Id``: ``list_id_domain`` or that of ``from_address``."""
        if self.list_id_domain:
            return self.list_id_domain
        if self.from_address and "@" in self.from_address:
            return self.from_address.rsplit("@", 1)[1]
        return None

    @property
    def configured(self) -> bool:
        """On, with somewhere to put mail (a server or a folder) and an address to send from."""
        return (self.enabled and bool(self.from_address) and self.domain is not None
                and (self.to_folder is not None or bool(self.host)))
