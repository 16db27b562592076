"""The library commands that buttons run (browse, search, show), declared apart from the router
(:mod:`bot.resources.commands`) so a button names a declaration, not a string."""

from __future__ import annotations

from bot.commands.spec import Arg, ArgKind, Command, Option
from bot.i18n import _
from bot.resources.fields import KINDS

KIND = Option("kind", _("report, toolkit, guide, dataset, recording, article, course or other"), ArgKind.CHOICE,
              KINDS)
LANG = Option("lang", _("Language code of the document, e.g. en, fr, es"), ArgKind.LANGUAGE, max_length=10)
PAGE = Option("page", _("Page number"), ArgKind.INTEGER, max_length=4)
RESOURCE_ID = Arg("id", _("The resource number, e.g. 12"), ArgKind.RESOURCE, max_length=12)

BROWSE_TOPIC = Arg("topic", _("The topic's short name, e.g. disinformation"), ArgKind.TOPIC, required=False)
QUERY = Arg("query", _("Words to look for"), rest=True, max_length=300)
SEARCH_TOPIC = Option("topic", _("Only this topic"), ArgKind.TOPIC, max_length=40)

RESOURCES = Command(("resources",), _("Browse the resource library, newest first, or one topic's resources."),
                    args=(BROWSE_TOPIC,), options=(PAGE,))
RESOURCE_SEARCH = Command(("resource", "search"), _("Search the resource library."),
                          args=(QUERY,), options=(SEARCH_TOPIC, KIND, LANG, PAGE))
RESOURCE_SHOW = Command(("resource", "show"), _("Show one resource in full."), args=(RESOURCE_ID,))
