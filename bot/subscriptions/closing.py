"""Ending what waits on a topic when the topic changes under it.

Archiving closes the waiting requests (a coordinator could otherwise approve someone into a topic that sends
nothing) and withdraws the open invitations; opening an approval topic closes the requests nobody needs to
answer any more. Each person is told once: the dedupe keys are stable, so a retried archive or the
housekeeping sweep never repeats a notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.commands.invoke import invoke
from bot.delivery.notify import Notifier
from bot.i18n import _
from bot.messages import Action, ActionStyle, Message
from bot.ports import Store
from bot.subscriptions.declarations import SUBSCRIBE
from bot.subscriptions.model import RequestStatus
from bot.topics.model import Topic


@dataclass(frozen=True, slots=True)
class Closed:
    """How many waiting requests and open invitations a change to a topic ended."""

    requests: int = 0
    invitations: int = 0


async def close_for_archive(store: Store, notifier: Notifier, topic: Topic, actor_id: int | None,
                            now: datetime) -> Closed:
    """Expire the topic's waiting requests, withdraw its invitations and tell each person.

    The notices carry no ``topic_id``: the worker would skip them, since nobody receives an archived topic.
    They name only the topic the person asked for or was invited to, so they reveal nothing new.
    """
    requests = await store.requests.close_pending(topic.id, RequestStatus.EXPIRED, actor_id, now)
    for request in requests:
        await notifier.to_people(
            [request.person_id],
            Message(title=_("Request closed"),
                    body=(_("Your request to join “{topic}” was closed: the topic has been archived and sends "
                            "nothing more.", topic=topic.slug),)),
            key=f"request:{request.id}:archived")
    invitations = await store.subscriptions.remove_invitations(topic.id)
    for invitation in invitations:
        await notifier.to_people(
            [invitation.person_id],
            Message(title=_("Invitation withdrawn"),
                    body=(_("Your invitation to “{topic}” is withdrawn: the topic has been archived.",
                            topic=topic.slug),)),
            key=f"{invitation_key(topic.id, invitation.person_id, invitation.created_at)}:withdrawn")
    return Closed(len(requests), len(invitations))


async def close_for_open_policy(store: Store, notifier: Notifier, topic: Topic, actor_id: int | None,
                                now: datetime) -> int:
    """Close the waiting requests of a topic that no longer needs approval, offering each requester a Join
    button with the delivery mode they asked for. Nobody is subscribed here: joining re-checks that they
    may still see the topic."""
    requests = await store.requests.close_pending(topic.id, RequestStatus.EXPIRED, actor_id, now)
    for request in requests:
        await notifier.to_people(
            [request.person_id],
            Message(title=_("No approval needed"),
                    body=(_("“{topic}” no longer needs a coordinator's approval, so your request #{id} is closed. "
                            "Join whenever you like.", topic=topic.slug, id=request.id),),
                    actions=(Action(_("Join"), invoke(SUBSCRIBE, topic=topic.slug, mode=request.mode),
                                    ActionStyle.PRIMARY),)),
            key=f"request:{request.id}:opened", topic_id=topic.id)
    return len(requests)


def invitation_key(topic_id: int, person_id: int, created_at: datetime) -> str:
    """One key per invitation, not per person and topic: inviting someone again after they left (or after an
    archive withdrew the first invitation) must reach them, not be taken for a repeat and dropped."""
    return f"invite:{topic_id}:{person_id}:{created_at.isoformat()}"
