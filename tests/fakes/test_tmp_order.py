import asyncio, time
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from tests.fakes.slack_server import FakeSlack

async def test_fake_closes_first() -> None:
    t = time.monotonic()
    async with FakeSlack() as fake:
        app = AsyncApp(client=AsyncWebClient(token="xoxb", base_url=fake.api_url))
        handler = AsyncSocketModeHandler(app, app_token="xapp-test", ping_interval=0.2)
        await handler.connect_async()
        await fake.send_event({"type": "message", "channel": "D1", "user": "U1", "text": "hi", "ts": "1.2"})
    print("exit took", time.monotonic() - t)
    await asyncio.sleep(0.5)
    await handler.close_async()
    print("total", time.monotonic() - t)
