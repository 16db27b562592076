"""The port through which the core writes absolute links into mails; the composition root implements it."""

from __future__ import annotations

from typing import Protocol


class EmailLinks(Protocol):
    """Absolute URLs of the web's email pages (``/email/confirm/{token}``, ``/email/manage/{key}``,
    ``/email/unsubscribe/{key}``), built from where the site is reachable."""

    def confirm_url(self, token: str) -> str:
        """Returns the absolute URL of the confirm page for ``token``. Raises nothing."""
        ...

    def manage_url(self, key: str) -> str:
        """Returns the absolute URL of the manage page for ``key``. Raises nothing."""
        ...

    def unsubscribe_url(self, key: str) -> str:
        """Returns the absolute URL of the one-click unsubscribe for ``key``. Raises nothing."""
        ...
