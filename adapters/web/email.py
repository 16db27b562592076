"""The web side of followers by email: the subscribe form's answer, the confirm, unsubscribe and manage pages.

Everything is decided by :class:`~bot.email.service.EmailFollowers`; these handlers read forms, translate what
it raises (:class:`~bot.errors.UserError`) into the form shown again with the error, status 400 and nothing
changed, and answer every link that is unknown, expired or used with one page (410), so a guessed token learns
nothing. The subscribe answer is the same page, byte for byte but the nonce, for a new address, one already
following and one over a rate limit: the form must not tell who is subscribed.

Links in mails carry the secret (a confirm token, a person key) in the path, so these pages are never cached
(``no-store``) nor indexed. A mail scanner follows links but presses no buttons: every change is a POST.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from adapters.web.email_guard import cross_site
from adapters.web.email_link import LINK_LABELS, MYDATA_IN_CHAT, LinkClaim, answer_lines, chat_topics, claim
from adapters.web.language import choose
from adapters.web.render import Renderer, clean
from bot.email.address import mask, normalise
from bot.email.model import EMAIL_MODES, PLATFORM, ManageView
from bot.email.service import ChatSide, EmailFollowers, email_mode
from bot.errors import UserError
from bot.i18n import Msg, Text, _
from bot.model import Identity
from bot.people.languages import own_name
from bot.subscriptions.model import MODE_LABELS, DeliveryMode

TOKEN = "[A-Za-z0-9_-]{32}"
"""Confirm tokens and person keys in URLs (32 url-safe characters): anything else is not found."""
ONE_CLICK = ("List-Unsubscribe", "One-Click")
"""RFC 8058's body field: a mail provider's one-click POST, and the unsubscribe page's own button."""
MAX_FIELD = 1000
"""Longer form values are cut here before validation: none of ours is longer, an error says what is wrong."""
TOPIC_FIELD = "topic:"
"""Manage form fields ``topic:<slug>``: the mode chosen for that topic (``stop``, a mode, or empty)."""
STOP = "stop"

EMAIL_LABELS: dict[str, Text] = {
    "by_email": _("Follow by email"), "address": _("Email address"), "how_often": _("How often"),
    "language": _("Language of the mails"), "subscribe": _("Subscribe"),
    "opt_in": _("We send one mail with a link to confirm. Nothing else is sent until you follow it."),
    "immediate": _("each announcement as it is sent"), "stop": _("stop following"), "not_followed": _("not followed"),
    "confirm_title": _("Confirm your subscription"), "confirm": _("Confirm"),
    "confirmed_title": _("Subscription confirmed"), "manage": _("Change or stop what you receive"),
    "sent_title": _("Check your inbox"), "expired_title": _("Link expired"),
    "expired": _("This link has expired or was already used."),
    "unsubscribe_title": _("Stop all mail"), "unsubscribe": _("Unsubscribe from everything"),
    "unsubscribed_title": _("Unsubscribed"), "no_more_mail": _("You will get no more mail from us."),
    "manage_title": _("Your email subscriptions"), "followed": _("Topics you follow"),
    "none_followed": _("You follow no topic by email."), "available": _("More public topics"),
    "paused": _("Mail to this address is paused: it was refused several times in a row."),
    "resume": _("Resume sending mail to this address"), "save": _("Save"), "saved": _("Your changes are saved."),
    "remove_title": _("Remove my address"),
    "remove_note": _("Your address, its subscriptions and pending requests are deleted; these links stop working."),
    "remove_confirm": _("Yes, remove my address entirely"), "remove": _("Remove"),
    "removed_title": _("Address removed"), "removed": _("Your address has been removed. These links no longer work."),
    "zone": _("Time zone"), "refused_title": _("Not allowed"),
    "refused": _("This form can only be sent from this site's own pages."),
    "mydata": _("Download everything we hold about you (JSON)"), **LINK_LABELS,
}
MODE_CHOICES: dict[DeliveryMode, Text] = {DeliveryMode.IMMEDIATE: EMAIL_LABELS["immediate"],
                                          **{mode: MODE_LABELS[mode] for mode in EMAIL_MODES[1:]}}
"""What a follower by email may choose, each said for mail ("daily digest", not "direct message")."""


class TopicPage(Protocol):
    """The topic page (:meth:`adapters.web.pages.Pages.topic`) with its subscribe form filled in again and an
    error: a topic that is not public answers the one 404 page instead."""

    def __call__(self, request: web.Request, *, values: Mapping[str, str] | None = ...,
                 error: Msg | None = ..., status: int = ...) -> Awaitable[web.StreamResponse]: ...


ClientKey = Callable[[web.Request], str]
MyData = Callable[[Identity], Awaitable[bytes | None]]
"""Everything held about whoever an identity belongs to, as the JSON file (``PrivacyService.export_of``)."""


def remote_client(request: web.Request) -> str:
    """The rate limit's client: the peer address, an IPv6 one by its /64 (one host holds a whole /64 and could
    otherwise be a new client per request). Behind a reverse proxy it is the proxy's: every reader shares one
    limit unless the composition root passes a ``client_of`` that trusts the proxy's header."""
    return client_key(request.remote)


def client_key(remote: str | None) -> str:
    """A peer address as a rate-limit client: IPv4 as is (an IPv4-mapped IPv6 address too), IPv6 by its /64."""
    if remote is None:
        return "unknown"
    try:
        found = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return str(found.ipv4_mapped)
        return str(ipaddress.IPv6Network((found, 64), strict=False))
    return str(found)


def labels(renderer: Renderer, language: str) -> dict[str, str]:
    return {key: renderer.text(value, language) for key, value in EMAIL_LABELS.items()}


def mode_choices(renderer: Renderer, language: str) -> list[tuple[str, str]]:
    return [(mode.value, renderer.text(label, language)) for mode, label in MODE_CHOICES.items()]


def subscribe_form(renderer: Renderer, language: str, slug: str, values: Mapping[str, str] | None = None,
                   error: Msg | None = None) -> dict[str, Any]:
    """What ``email_form.html`` shows on a topic page: empty (mode immediate, the page's language, zone UTC
    until the page's script reads the browser's), or what was sent, with the error."""
    given = values or {}
    return {"slug": slug, "E": labels(renderer, language), "modes": mode_choices(renderer, language),
            "languages": [(code, own_name(code)) for code in renderer.languages],
            "address": given.get("address", ""), "mode": given.get("mode", DeliveryMode.IMMEDIATE.value),
            "language": given.get("language", language), "zone": given.get("zone", "UTC"),
            "error": None if error is None else renderer.text(error, language)}


class EmailPages:
    """The handlers of :func:`email_routes`; each page is ``no-store`` and ``noindex`` (see above)."""

    def __init__(self, followers: EmailFollowers, renderer: Renderer, topic_page: TopicPage,
                 client_of: ClientKey = remote_client, my_data: MyData | None = None,
                 link: LinkClaim | None = None) -> None:
        self._followers = followers
        self._link = link
        self._render = renderer
        self._topic_page = topic_page
        self._client_of = client_of
        self._my_data = my_data

    def language(self, request: web.Request) -> str:
        return choose(request.query.get("lang"), request.headers.get("Accept-Language"),
                      self._render.languages, self._render.config.default_language)

    def _page(self, request: web.Request, template: str, title: str, *, status: int = 200,
              **context: Any) -> web.Response:
        language = self.language(request)
        response = self._render.page(request, template, language, status=status,
                                     title=self._render.text(EMAIL_LABELS[title], language),
                                     E=labels(self._render, language), **{"request_path": request.path, **context})
        # The path holds a secret (token or key): no cache keeps it, no search engine lists it.
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    def _message(self, request: web.Request, title: str, message: Msg, *, status: int = 200,
                 link: str | None = None, link_label: str | None = None) -> web.Response:
        text = self._render.text(message, self.language(request))
        return self._page(request, "email_message.html", title, status=status, message=text, link=link,
                          link_label=link_label)

    def _expired(self, request: web.Request) -> web.Response:
        return self._message(request, "expired_title", EMAIL_LABELS["expired"], status=410)

    def _refused(self, request: web.Request) -> web.Response:
        return self._message(request, "refused_title", EMAIL_LABELS["refused"], status=403)

    async def _form(self, request: web.Request) -> dict[str, str]:
        form: MultiDictProxy[Any] = await request.post()
        return {key: value[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}

    async def subscribe(self, request: web.Request) -> web.StreamResponse:
        if cross_site(request, self._render.config.base_url):
            return self._refused(request)
        slug = request.match_info["slug"]
        values = await self._form(request)
        values = {key: values.get(key, "").strip() for key in ("address", "mode", "language", "zone")}
        values["language"] = values["language"] or self.language(request)
        values["zone"] = values["zone"] or "UTC"
        try:
            shown = mask(normalise(values["address"]))
            mode = email_mode(values["mode"])
            await self._followers.request(values["address"], slug, mode, values["language"], values["zone"],
                                          self._client_of(request))
        except UserError as error:
            response = await self._topic_page(request, values=values, error=error.message, status=400)
            response.headers["Cache-Control"] = "no-store"  # it shows what was typed
            return response
        # Whatever the address's state (new, following already, over a limit): the same page.
        message = _("If {address} can receive mail, a message with a link is on its way.", address=shown)
        return self._message(request, "sent_title", message)

    async def back_to_topic(self, request: web.Request) -> web.StreamResponse:
        """A GET on the form's address (the language switcher of the answer page): the topic page."""
        lang = request.query.get("lang")
        suffix = f"?lang={lang}" if lang in self._render.languages else ""
        raise web.HTTPSeeOther(f"/topics/{quote(request.match_info['slug'], safe='')}{suffix}")

    async def confirm_page(self, request: web.Request) -> web.StreamResponse:
        pending = await self._followers.confirmation(request.match_info["token"])
        if pending is None:
            return self._expired(request)
        language = self.language(request)
        question = _("Send announcements of “{topic}” to {address} ({mode})?", topic=clean(pending.topic_title),
                     address=pending.address, mode=MODE_CHOICES.get(pending.mode, pending.mode.label))
        return self._page(request, "email_confirm.html", "confirm_title",
                          question=self._render.text(question, language))

    async def confirm(self, request: web.Request) -> web.StreamResponse:
        if cross_site(request, self._render.config.base_url):
            return self._refused(request)
        done = await self._followers.confirm(request.match_info["token"])
        if done is None:
            return self._expired(request)
        if done.awaiting_approval:
            message = _("Your request to follow “{topic}” by email waits for a coordinator's approval; a mail will "
                        "tell you the answer.", topic=clean(done.topic_title))
        else:
            message = _("You now follow “{topic}” by email. Every mail ends with links to change or stop what you "
                        "receive.", topic=clean(done.topic_title))
        manage = f"/email/manage/{done.key}" if done.key else None
        return self._message(request, "confirmed_title", message, link=manage,
                             link_label=self._render.text(EMAIL_LABELS["manage"], self.language(request)))

    async def unsubscribe_page(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        view = await self._followers.manage(key)
        if view is None:
            return self._expired(request)
        question = _("Stop every mail to {address}?", address=mask(view.address))
        return self._page(request, "email_unsubscribe.html", "unsubscribe_title",
                          question=self._render.text(question, self.language(request)), key=key,
                          one_click=ONE_CLICK)

    async def unsubscribe(self, request: web.Request) -> web.StreamResponse:
        """RFC 8058: the mail provider POSTs ``List-Unsubscribe=One-Click`` from its own servers, with whatever
        ``Origin`` it likes; that body is the one exception to the cross-site refusal. Unsubscribing twice
        answers the same page."""
        form = await self._form(request)
        if form.get(ONE_CLICK[0]) != ONE_CLICK[1] and cross_site(request, self._render.config.base_url):
            return self._refused(request)
        key = request.match_info["key"]
        if not await self._followers.unsubscribe_all(key):
            return self._expired(request)
        return self._message(request, "unsubscribed_title", EMAIL_LABELS["no_more_mail"],
                             link=f"/email/manage/{key}",
                             link_label=self._render.text(EMAIL_LABELS["manage"], self.language(request)))

    async def manage_page(self, request: web.Request) -> web.StreamResponse:
        found = await self._state(request.match_info["key"])
        return self._expired(request) if found is None else self._manage(request, *found)

    async def _state(self, key: str) -> tuple[ManageView, ChatSide] | None:
        view, side = await self._followers.manage(key), await self._followers.chat_side(key)
        return None if view is None or side is None else (view, side)

    def _manage(self, request: web.Request, view: ManageView, side: ChatSide, *, error: Msg | None = None,
                saved: bool = False, values: Mapping[str, str] | None = None, linked: tuple[str, ...] = (),
                link_refused: bool = False, in_chat: bool = False) -> web.Response:
        language = self.language(request)
        given = values or {}
        chosen = {topic.slug: given.get(TOPIC_FIELD + topic.slug, topic.mode.value if topic.mode else "")
                  for topic in (*view.followed, *view.available)}
        return self._page(request, "email_manage.html", "manage_title", status=400 if error or link_refused else 200,
                          view=view, request_path=f"/email/manage/{request.match_info['key']}", link=bool(self._link),
                          linked=linked, link_refused=link_refused,
                          address=mask(view.address), error=None if error is None else self._render.text(error,
                                                                                                       language),
                          saved=saved, modes=mode_choices(self._render, language), chosen=chosen,
                          languages=[(code, own_name(code)) for code in self._render.languages],
                          chosen_language=given.get("language", view.language), zone=given.get("zone", view.zone),
                          field=TOPIC_FIELD, stop=STOP, mydata=self._my_data is not None and not side.linked,
                          in_chat=self._render.text(MYDATA_IN_CHAT, language) if self._my_data and side.linked
                          else None, in_chat_alert=in_chat, chat_topics=chat_topics(self._render, side, language),
                          linked_account=side.linked)

    async def my_data(self, request: web.Request) -> web.StreamResponse:
        """The follower's data as a JSON download (what ``mydata`` sends in chat), for the manage page's button.
        A POST like the page's other forms, refused from another site: a link would hand the file to whatever
        fetches the URL (a mail scanner, a prefetching browser, a page that embeds it). The key is the only way
        in, so an unknown or spent one answers the expired page like every other link. An address linked to a chat
        account gets the page saying to use ``mydata`` in chat: the key (in every mail, and mails leak) must not
        open the person's chat data."""
        if cross_site(request, self._render.config.base_url):
            return self._refused(request)
        found = await self._state(request.match_info["key"])
        if found is not None and found[1].linked:
            return self._manage(request, *found, in_chat=True)
        view = None if found is None else found[0]
        data = None if view is None or self._my_data is None else await self._my_data(Identity(PLATFORM, view.address))
        if data is None:
            return self._expired(request)
        return web.Response(body=data, content_type="application/json", charset="utf-8",
                            headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow",
                                     "Content-Disposition": 'attachment; filename="mydata.json"'})

    async def back_to_manage(self, request: web.Request) -> web.StreamResponse:
        """A GET on the download's or the link form's address (an old link, a typed URL, the language switcher of
        the link's answer): the manage page, where their buttons are. As :meth:`back_to_topic` does for the
        subscribe form; the file itself is never served to a GET, nor is a code ever read from one."""
        lang = request.query.get("lang")
        suffix = f"?lang={lang}" if lang in self._render.languages else ""
        raise web.HTTPSeeOther(f"/email/manage/{request.match_info['key']}{suffix}")

    async def link(self, request: web.Request) -> web.StreamResponse:
        """``link <code>`` as ``email:<address>``, from the manage page's form, answered on the page in its language:
        the core's own answer (a wrong code and an expired one read alike, and count towards the same wrong-code
        limits as in chat). The code travels in the body, so the access log (route patterns only) never holds it,
        and the page never shows it back."""
        if cross_site(request, self._render.config.base_url):
            return self._refused(request)
        key = request.match_info["key"]
        caller = None if self._link is None else await self._followers.caller(key)
        if caller is None or self._link is None:
            return self._expired(request)
        answer, refused = await claim(self._link, caller, (await self._form(request)).get("code", ""))
        found = await self._state(key)
        if found is None:
            return self._expired(request)
        return self._manage(request, *found, linked=answer_lines(self._render, answer, self.language(request),
                                                                 found[0].zone), link_refused=refused)

    async def manage(self, request: web.Request) -> web.StreamResponse:
        if cross_site(request, self._render.config.base_url):
            return self._refused(request)
        key = request.match_info["key"]
        found = await self._state(key)
        if found is None:
            return self._expired(request)
        view, side = found
        form = await self._form(request)
        if form.get("action") == "remove":
            if form.get("confirm") != "yes":
                return self._manage(request, view, side, error=_("Tick the box to confirm that your address should "
                                                                 "be removed."))
            if not await self._followers.remove(key):
                return self._expired(request)
            return self._message(request, "removed_title", EMAIL_LABELS["removed"])
        try:
            modes = _changes(view, form)
            language = form.get("language", "").strip() or None
            zone = form.get("zone", "").strip() or None
            updated = await self._followers.update(
                key, language=None if language == view.language else language,
                zone=None if zone == view.zone else zone, modes=modes, resume=form.get("resume") == "yes")
        except UserError as error:
            return self._manage(request, view, side, error=error.message, values=form)
        fresh = await self._state(key) if updated else None
        return self._expired(request) if fresh is None else self._manage(request, *fresh, saved=True)


def _changes(view: ManageView, form: Mapping[str, str]) -> dict[str, DeliveryMode | None]:
    """What the manage form changes: ``stop`` unfollows, a mode follows or changes; a topic left as it was (or
    left "not followed") is not sent, so an unchanged form changes nothing."""
    current = {topic.slug: topic.mode for topic in (*view.followed, *view.available)}
    changes: dict[str, DeliveryMode | None] = {}
    for name, raw in form.items():
        if not name.startswith(TOPIC_FIELD):
            continue
        slug, value = name[len(TOPIC_FIELD):], raw.strip()
        if value in ("", STOP):
            if current.get(slug) is not None:
                changes[slug] = None
            continue
        mode = email_mode(value)
        if current.get(slug) is not mode:
            changes[slug] = mode
    return changes


def email_routes(followers: EmailFollowers, renderer: Renderer, topic_page: TopicPage, *,
                 client_of: ClientKey = remote_client, my_data: MyData | None = None,
                 link: LinkClaim | None = None) -> list[web.RouteDef]:
    """The email pages' route table for :func:`adapters.web.server.build_site` (only when email is on).
    ``topic_page`` is :meth:`adapters.web.pages.Pages.topic` of a ``Pages(..., email_enabled=True)``; with
    ``my_data``, the manage page offers the follower's data as a download (a POST; a GET goes back to the page);
    with ``link``, a form that takes a code from chat's ``link`` (the same)."""
    pages = EmailPages(followers, renderer, topic_page, client_of, my_data, link)
    download = [web.post(f"/email/manage/{{key:{TOKEN}}}/mydata.json", pages.my_data),
                web.get(f"/email/manage/{{key:{TOKEN}}}/mydata.json", pages.back_to_manage)] if my_data else []
    return [web.post("/topics/{slug}/subscribe", pages.subscribe),
            web.get("/topics/{slug}/subscribe", pages.back_to_topic),
            web.get(f"/email/confirm/{{token:{TOKEN}}}", pages.confirm_page),
            web.post(f"/email/confirm/{{token:{TOKEN}}}", pages.confirm),
            web.get(f"/email/unsubscribe/{{key:{TOKEN}}}", pages.unsubscribe_page),
            web.post(f"/email/unsubscribe/{{key:{TOKEN}}}", pages.unsubscribe),
            web.get(f"/email/manage/{{key:{TOKEN}}}", pages.manage_page),
            web.post(f"/email/manage/{{key:{TOKEN}}}", pages.manage), *download,
            *([web.post(f"/email/manage/{{key:{TOKEN}}}/link", pages.link),
               web.get(f"/email/manage/{{key:{TOKEN}}}/link", pages.back_to_manage)] if link else [])]
