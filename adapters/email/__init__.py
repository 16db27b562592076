"""Email as a platform: composing mails (``compose``, ``render``), sending them (``transport``), the
:class:`~bot.ports.PlatformAdapter` (``delivery``) and the ``[email]`` settings (``settings``)."""
