"""The public web site: pages, feeds, calendars and operations endpoints on one aiohttp application
(:func:`adapters.web.server.build_site`). An adapter like Slack or Discord: it reads the core through
:class:`bot.public.service.PublicService` and never decides who may see what."""
