"""The fake Slack server speaks well enough to the real slack_sdk and slack_bolt clients.

These tests guard the fake itself: if an SDK upgrade changes how it encodes requests or acks
envelopes, they fail here instead of in every adapter test.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes import slack_limits
from tests.fakes.faults import (
    DROP_AFTER_STORE,
    DROP_BEFORE_STORE,
    ERROR_AFTER_STORE,
    OUTAGE,
    RATE_LIMITED,
    Fault,
    Faults,
)
from tests.fakes.slack_server import (
    FakeSlack,
    RecordedCall,
    Reply,
    SlackRefused,
    interactive_form,
    sign,
    slash_command_form,
)

SECRET = "test-signing-secret"


def web_client(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url, **kwargs)


async def test_web_api_post_open_history_with_metadata_and_users() -> None:
    async with FakeSlack() as fake:
        fake.add_user("U1", real_name="Ada Lovelace", tz="America/New_York", is_restricted=True)
        client = web_client(fake)

        assert (await client.auth_test())["user_id"] == fake.bot_user_id
        dm = (await client.conversations_open(users="U1"))["channel"]["id"]
        assert dm.startswith("D")
        assert (await client.conversations_open(users=["U1"]))["channel"]["id"] == dm

        metadata = {"event_type": "delivery", "event_payload": {"delivery_id": 7}}
        first = await client.chat_postMessage(channel=dm, text="hello", metadata=metadata)
        second = await client.chat_postMessage(channel="U1", text="second")
        assert second["channel"] == dm
        assert float(second["ts"]) > float(first["ts"])
        assert first["ts"] == "1700000000.000100"

        history = await client.conversations_history(channel=dm, include_all_metadata=True, limit=10)
        assert [m["text"] for m in history["messages"]] == ["second", "hello"]
        assert history["messages"][1]["metadata"] == metadata
        plain = await client.conversations_history(channel=dm)
        assert all("metadata" not in m for m in plain["messages"])

        user = (await client.users_info(user="U1"))["user"]
        assert (user["real_name"], user["tz"]) == ("Ada Lovelace", "America/New_York")
        assert user["is_restricted"]
        with pytest.raises(SlackApiError) as missing:
            await client.users_info(user="U404")
        assert missing.value.response["error"] == "user_not_found"

        post = fake.calls_to("chat.postMessage")[0]
        assert (post.http_method, post.token, post.params["metadata"]) == ("POST", "xoxb-test", metadata)
        assert fake.calls_to("users.info")[0].http_method == "GET"
        assert [m["text"] for m in fake.messages("U1")] == ["hello", "second"]


async def test_form_encoded_bodies_update_delete_and_unknown_method() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake)
        posted = await client.api_call(
            "chat.postMessage",
            data={"channel": "C1", "text": "form", "metadata": '{"event_type": "x", "event_payload": {}}'},
        )
        assert fake.messages("C1")[0]["metadata"] == {"event_type": "x", "event_payload": {}}
        await client.chat_update(channel="C1", ts=posted["ts"], text="edited")
        assert fake.messages("C1")[0]["text"] == "edited"
        await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
        assert fake.ephemerals[0]["user"] == "U1" and fake.messages("C1")[0]["text"] == "edited"
        await client.chat_delete(channel="C1", ts=posted["ts"])
        assert fake.messages("C1") == []
        with pytest.raises(SlackApiError) as gone:
            await client.chat_delete(channel="C1", ts=posted["ts"])
        assert gone.value.response["error"] == "message_not_found"

        with pytest.raises(SlackApiError) as unknown:
            await client.api_call("bogus.method")
        assert unknown.value.response["error"] == "unknown_method"
        assert fake.calls_to("bogus.method")


async def test_channels_usergroups_and_views() -> None:
    async with FakeSlack() as fake:
        fake.add_channel("C1", name="general", is_general=True)
        fake.add_channel("C2", is_private=True, is_archived=True)
        fake.add_usergroup("S1", ["U1", "U2"])
        client = web_client(fake)

        general = (await client.conversations_info(channel="C1"))["channel"]
        archived = (await client.conversations_info(channel="C2"))["channel"]
        assert general["is_general"] and not general["is_private"]
        assert archived["is_private"] and archived["is_archived"]
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C2", text="into the archive")
        assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]

        view = {"type": "modal", "callback_id": "subscribe", "title": {"type": "plain_text", "text": "Hi"},
                "blocks": []}
        opened = await client.views_open(trigger_id="1.1.x", view=view)
        view_id = opened["view"]["id"]
        await client.views_update(view_id=view_id, view={**view, "callback_id": "updated"})
        assert fake.views[view_id]["callback_id"] == "updated"


async def test_queued_errors_dm_failures_and_hooks() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake)
        fake.queue("chat.postMessage", body={"ok": False, "error": "channel_not_found"})
        fake.queue("chat.postMessage", status=500)
        for status in (200, 500):
            with pytest.raises(SlackApiError) as failed:
                await client.chat_postMessage(channel="C1", text="x")
            assert failed.value.response.status_code == status
        fake.fail_dm_for("U9", "user_not_found")
        with pytest.raises(SlackApiError) as no_dm:
            await client.conversations_open(users="U9")
        assert no_dm.value.response["error"] == "user_not_found"

        def block_c3(call: RecordedCall) -> Reply | None:
            if call.params.get("channel") == "C3":
                return Reply(body={"ok": False, "error": "not_in_channel"})
            return None

        fake.add_hook(block_c3)
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C3", text="x")
        await client.chat_postMessage(channel="C4", text="x")
        assert len(fake.messages("C4")) == 1


async def test_queued_429_is_retried_by_rate_limit_handler() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
        fake.queue("chat.postMessage", status=429, headers={"Retry-After": "0"})
        response = await client.chat_postMessage(channel="C1", text="eventually")
        assert response["ok"]
        assert len(fake.calls_to("chat.postMessage")) == 2
        assert fake.ratelimited("chat.postMessage") == 1
        assert [m["text"] for m in fake.messages("C1")] == ["eventually"]


async def test_rate_limiter_answers_429_with_integer_retry_after() -> None:
    async with FakeSlack() as fake:
        fake.rate_limit("chat.postMessage", per_second=2, per_channel=True)
        client = web_client(fake)
        for channel in ("C1", "C1", "C2"):
            await client.chat_postMessage(channel=channel, text="x")
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="x")
        assert limited.value.response.status_code == 429
        assert int(limited.value.response.headers["Retry-After"]) >= 1
        assert fake.ratelimited() == 1


async def test_socket_mode_slash_command_respond_action_and_view() -> None:
    async with FakeSlack() as fake:
        app = AsyncApp(client=web_client(fake))

        @app.command("/coalition")
        async def coalition(ack: AsyncAck, respond: AsyncRespond, command: dict[str, Any]) -> None:
            await ack(f"{command['text']} for {command['user_id']}")
            await respond("later reply")

        @app.action("subscribe")
        async def subscribe(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            value = body["actions"][0]["value"]
            await client.chat_postMessage(channel=body["user"]["id"], text=f"subscribed {value}")

        @app.view("prefs")
        async def prefs(ack: AsyncAck, view: dict[str, Any]) -> None:
            await ack(response_action="errors", errors={"b": view["private_metadata"]})

        async with fake.socket_mode(app, app_token="xapp-test"):
            ack = await fake.send_slash_command(command="/coalition", text="topics", user_id="U1",
                                                channel_id="C1")
            assert ack == {"text": "topics for U1"}
            response_url = fake.envelopes[-1]["payload"]["response_url"]
            assert (await fake.next_response(response_url.rsplit("/", 1)[1]))["text"] == "later reply"

            assert await fake.send_block_action(user_id="U1", action_id="subscribe", value="climate") == {}
            await fake.wait_for_calls("chat.postMessage")
            assert fake.messages("U1")[0]["text"] == "subscribed climate"

            view_ack = await fake.send_view_submission(user_id="U1", callback_id="prefs", values={},
                                                       private_metadata="too short")
            assert view_ack == {"response_action": "errors", "errors": {"b": "too short"}}
        assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"
        assert len(fake.acks) == 3


async def test_envelope_without_connected_app_times_out() -> None:
    async with FakeSlack(timeout=0.2) as fake:
        with pytest.raises(TimeoutError):
            await fake.send_slash_command(command="/coalition")
        assert fake.envelopes == []


async def test_unhandled_event_gets_no_ack_and_socket_still_closes_cleanly() -> None:
    async with FakeSlack(timeout=0.3) as fake:
        app = AsyncApp(client=web_client(fake))
        with pytest.raises(TimeoutError):
            async with fake.socket_mode(app):
                await fake.send_event({"type": "message", "channel": "D1", "user": "U1", "text": "hi"})
        assert fake.acks == [] and len(fake.envelopes) == 1


async def test_http_mode_checks_signatures() -> None:
    async with FakeSlack() as fake:
        app = AsyncApp(client=web_client(fake), signing_secret=SECRET)
        ran: list[str] = []

        @app.command("/coalition")
        async def coalition(ack: AsyncAck, command: dict[str, Any]) -> None:
            ran.append(command["text"])
            await ack("http ok")

        @app.action("subscribe")
        async def subscribe(ack: AsyncAck, body: dict[str, Any]) -> None:
            ran.append(body["actions"][0]["value"])
            await ack()

        form = {"Content-Type": "application/x-www-form-urlencoded"}
        server = TestServer(app.web_app(path="/slack/events"), host="127.0.0.1")
        async with server, aiohttp.ClientSession() as session:
            url = server.make_url("/slack/events")
            now = int(time.time())
            body = slash_command_form(fake.slash_command_payload(command="/coalition", text="topics"))
            async with session.post(url, data=body, headers={**form, **sign(body, SECRET, now)}) as resp:
                assert resp.status == 200
                # ack("text") answers text/plain over HTTP; only the socket adapter wraps it in {"text"}
                assert await resp.text() == "http ok"

            payload = fake.block_actions_payload(user_id="U1", action_id="subscribe", value="v")
            action = interactive_form(payload)
            async with session.post(url, data=action, headers={**form, **sign(action, SECRET, now)}) as resp:
                assert resp.status == 200

            bad = {**form, **sign(body, "wrong-secret", now)}
            stale = {**form, **sign(body, SECRET, now - 301)}
            for headers in (bad, stale):
                async with session.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 401
        assert ran == ["topics", "v"]


# --- what Slack refuses ---------------------------------------------------------------------------------


def _sections(n: int) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": f"s{i}"}} for i in range(n)]


def _modal(**extra: Any) -> dict[str, Any]:
    return {"type": "modal", "callback_id": "c", "title": {"type": "plain_text", "text": "T"}, "blocks": [],
            **extra}


async def test_missing_scopes_are_refused_with_needed_and_provided() -> None:
    async with FakeSlack() as fake:
        fake.add_channel("CPUB")
        fake.add_channel("CPRIV", is_private=True)
        client = web_client(fake)
        await client.conversations_info(channel="CPUB")  # no scopes granted yet: nothing is checked
        fake.grant(["chat:write", "channels:read"])
        assert (await client.conversations_info(channel="CPUB"))["channel"]["id"] == "CPUB"
        await client.chat_postMessage(channel="CPUB", text="x")
        await client.auth_test()  # needs no scope
        for method, params, needed in (("conversations.info", {"channel": "CPRIV"}, "groups:read"),
                                       ("users.info", {"user": "U1"}, "users:read"),
                                       ("conversations.history", {"channel": "CPUB"}, "channels:history")):
            with pytest.raises(SlackApiError) as refused:
                await client.api_call(method, params=params)
            body = refused.value.response
            assert (body["error"], body["needed"], body["provided"]) == (
                "missing_scope", needed, "channels:read,chat:write")
        # A channel nobody can find is looked up once any of the kinds' scopes is there …
        with pytest.raises(SlackApiError) as unknown:
            await client.conversations_info(channel="CNOWHERE")
        assert unknown.value.response["error"] == "channel_not_found"
        # … and refused with every kind's scope when none is.
        fake.grant(["chat:write"])
        with pytest.raises(SlackApiError) as unscoped:
            await client.conversations_info(channel="CNOWHERE")
        assert unscoped.value.response["needed"] == "channels:read,groups:read,im:read,mpim:read"


def test_every_method_the_fake_implements_has_a_scope() -> None:
    methods = {name.removeprefix("_api_").replace("_", ".") for name in dir(FakeSlack) if name.startswith("_api_")}
    for method in methods:
        slack_limits.needed_scope(method, None)  # raises KeyError for a method missing from the table
    assert "files.getUploadURLExternal" in methods


async def test_messages_past_block_kit_limits_are_refused() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake)
        await client.chat_postMessage(channel="C1", text="x", blocks=_sections(50))
        for blocks, pointer in ((_sections(51), "/blocks]"),
                                ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
                                 "/blocks/0/text/text]"),
                                ([{"type": "actions", "elements": [
                                    {"type": "button", "action_id": f"a{i}", "value": "v",
                                     "text": {"type": "plain_text", "text": "b"}} for i in range(26)]}],
                                 "/blocks/0/elements]")):
            with pytest.raises(SlackApiError) as refused:
                await client.chat_postMessage(channel="C1", text="x", blocks=blocks)
            assert refused.value.response["error"] == "invalid_blocks"
            assert refused.value.response["response_metadata"]["messages"][0].endswith(pointer)
        with pytest.raises(SlackApiError) as too_long:
            await client.chat_postMessage(channel="C1", text="x" * 40_001)
        assert too_long.value.response["error"] == "msg_too_long"
        assert len(fake.messages("C1")) == 1


async def test_views_past_limits_are_refused_and_metadata_is_measured_as_sent() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake)
        await client.views_open(trigger_id="1.1.x", view=_modal(blocks=_sections(100)))
        await client.views_open(trigger_id="1.1.x", view=_modal(private_metadata="a" * 3000))
        # 500 characters, but 3,000 as slack_sdk sends them (each "é" travels as \u00e9).
        await client.views_open(trigger_id="1.1.x", view=_modal(private_metadata="é" * 500))
        for view in (_modal(blocks=_sections(101)), _modal(private_metadata="é" * 501),
                     _modal(title={"type": "plain_text", "text": "x" * 25})):
            with pytest.raises(SlackApiError) as refused:
                await client.views_open(trigger_id="1.1.x", view=view)
            assert refused.value.response["error"] == "invalid_arguments"
        assert len(fake.views) == 3


async def test_a_response_url_takes_five_valid_posts() -> None:
    async with FakeSlack() as fake, aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/response/r1"
        async with http.post(url, json={"text": "x", "blocks": _sections(51)}) as bad:
            assert (bad.status, await bad.text()) == (400, "invalid_blocks")
        for _ in range(5):
            async with http.post(url, json={"text": "x"}) as ok:
                assert ok.status == 200
        async with http.post(url, json={"text": "sixth"}) as sixth:
            assert (sixth.status, await sixth.text()) == (404, "used_url")
        fake.expire_response_url("r2")
        async with http.post(f"{fake.base_url}/response/r2", json={"text": "late"}) as late:
            assert (late.status, await late.text()) == (404, "expired_url")
        assert len(fake.responses) == 5
        assert [why for _, _, why in fake.refused_responses] == ["invalid_blocks", "used_url", "expired_url"]


async def test_files_upload_v2_lands_in_the_conversation() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake)
        dm = (await client.conversations_open(users="U1"))["channel"]["id"]
        await client.files_upload_v2(channel=dm, filename="m.ics", title="m.ics", content=b"BEGIN:VCALENDAR")
        assert fake.file_data("U1") == [("m.ics", b"BEGIN:VCALENDAR")]


async def test_an_ack_with_a_view_slack_would_refuse_fails_the_test() -> None:
    async with FakeSlack() as fake:
        app = AsyncApp(client=web_client(fake))

        @app.view("big")
        async def big(ack: AsyncAck) -> None:
            await ack(response_action="update", view=_modal(blocks=_sections(101)))

        async with fake.socket_mode(app):
            with pytest.raises(SlackRefused):
                await fake.send_view_submission(user_id="U1", callback_id="big", values={})


# --- faults (tests/fakes/faults.py) ---------------------------------------------------------------------------


async def test_a_drop_after_store_stores_the_post_then_closes_without_an_answer() -> None:
    """What the exactly-once work guards against: slack_sdk's default handler re-sends the post, so it lands
    twice; a client that does not re-send sees the dropped connection and Slack holds one copy."""
    async with FakeSlack() as fake:
        fake.faults.add(Fault("chat.postMessage", DROP_AFTER_STORE))
        posted = await web_client(fake).chat_postMessage(channel="C1", text="once?")  # SDK default handlers
        assert [m["text"] for m in fake.messages("C1")] == ["once?", "once?"]
        assert posted["ts"] == fake.messages("C1")[1]["ts"]

        fake.faults.add(Fault("chat.postMessage", DROP_AFTER_STORE))
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await web_client(fake, retry_handlers=[]).chat_postMessage(channel="C2", text="once")
        assert [m["text"] for m in fake.messages("C2")] == ["once"]
        assert fake.status_counts[("chat.postMessage", 0)] == 2
        assert fake.faults.hits("chat.postMessage", DROP_AFTER_STORE) == 2 and fake.faults.armed == []


async def test_a_drop_before_store_keeps_nothing_and_errors_after_store_keep_the_post() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake, retry_handlers=[])
        fake.faults.add(Fault("chat.postMessage", DROP_BEFORE_STORE))
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.chat_postMessage(channel="C1", text="lost")
        assert fake.messages("C1") == []

        fake.faults.add(Fault("chat.postMessage", ERROR_AFTER_STORE))
        fake.faults.add(Fault("chat.update", ERROR_AFTER_STORE, status=500))
        with pytest.raises(SlackApiError) as bad_gateway:
            await client.chat_postMessage(channel="C1", text="stored")
        assert (bad_gateway.value.response.status_code, bad_gateway.value.response["error"]) == (502, "fatal_error")
        [stored] = fake.messages("C1")
        with pytest.raises(SlackApiError) as server_error:
            await client.chat_update(channel="C1", ts=stored["ts"], text="edited")
        assert server_error.value.response.status_code == 500 and fake.messages("C1")[0]["text"] == "edited"
        assert len(fake.calls_to("chat.postMessage")) == 2  # the log holds every request, faulted or not


async def test_an_outage_answers_503_for_its_window_or_until_removed_then_recovers() -> None:
    now = [100.0]
    async with FakeSlack() as fake:
        fake.faults = Faults(clock=lambda: now[0])
        client = web_client(fake, retry_handlers=[])
        fake.faults.add(Fault("chat.postMessage", OUTAGE, times=None, duration=60))
        for _ in range(3):
            with pytest.raises(SlackApiError) as down:
                await client.chat_postMessage(channel="C1", text="x")
            assert (down.value.response.status_code, down.value.response["error"]) == (503, "service_unavailable")
        now[0] += 60
        await client.chat_postMessage(channel="C1", text="back")
        assert [m["text"] for m in fake.messages("C1")] == ["back"] and fake.faults.armed == []

        outage = fake.faults.add(Fault("users.info", OUTAGE, times=None, status=500))
        for _ in range(2):
            with pytest.raises(SlackApiError):
                await client.users_info(user="U1")
        fake.faults.remove(outage)
        with pytest.raises(SlackApiError) as unknown:
            await client.users_info(user="U1")
        assert unknown.value.response["error"] == "user_not_found"  # the fake answers normally again
        assert fake.faults.hits(kind=OUTAGE) == 5


async def test_a_rate_limit_fault_answers_429_with_retry_after_and_stores_nothing() -> None:
    async with FakeSlack() as fake:
        fake.faults.add(Fault("chat.postMessage", RATE_LIMITED, retry_after=40))
        started = time.monotonic()
        with pytest.raises(SlackApiError) as limited:
            await web_client(fake, retry_handlers=[]).chat_postMessage(channel="C1", text="x")
        assert time.monotonic() - started < 5
        response = limited.value.response
        assert (response.status_code, response["error"], response.headers["Retry-After"]) == (429, "ratelimited", "40")
        assert fake.messages("C1") == [] and fake.ratelimited("chat.postMessage") == 1


async def test_faults_pick_requests_by_every_skip_and_where_and_spare_refused_ones() -> None:
    async with FakeSlack() as fake:
        client = web_client(fake, retry_handlers=[])
        fake.add_channel("CARCH", is_archived=True)
        fake.faults.add(Fault("chat.postMessage", DROP_AFTER_STORE, times=2, every=2, skip=1,
                              where=lambda params: params.get("channel") != "CQUIET"))
        outcomes = []
        for channel in ("CQUIET", "CARCH", "C1", "C1", "C1", "C1", "C1", "C1"):
            try:
                await client.chat_postMessage(channel=channel, text="x")
                outcomes.append("ok")
            except aiohttp.ServerDisconnectedError:
                outcomes.append("dropped")
            except SlackApiError as error:
                outcomes.append(str(error.response["error"]))
        # CQUIET is not matched; the archived channel's refusal is not a stored post; then among C1's posts the
        # first is skipped and every second one after it is dropped, twice.
        assert outcomes == ["ok", "is_archived", "ok", "dropped", "ok", "dropped", "ok", "ok"]
        assert len(fake.messages("C1")) == 6 and fake.faults.armed == []
