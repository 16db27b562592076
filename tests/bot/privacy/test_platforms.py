"""``mydata`` and ``forget me`` through the real Slack adapter against the loopback fake: the file is uploaded to
the person's DM with files.getUploadURLExternal / completeUploadExternal, and the confirm button erases them,
and no table names them afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from bot.model import Identity
from tests.adapters.slack.test_slack_adapter import buttons, command, everyone, last_reply, slack_app, text_of
from tests.bot.privacy.test_forget_me import rows_naming
from tests.fakes.slack_server import FakeSlack


async def test_slack_uploads_the_file_to_the_dm_and_the_button_erases(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        everyone(fake)
        async with slack_app(tmp_path, fake) as app, fake.socket_mode(app.platform_runners[0].bolt):
            reply = text_of(await command(fake, "/coalition", "mydata", "UMEM"))
            assert "Your data" in reply and "in your direct messages with the bot" in reply
            [(name, data)] = fake.file_data("UMEM")
            assert name.startswith("mydata-") and name.endswith(".json")
            document = json.loads(data.decode("utf-8"))
            assert [(i["platform"], i["external_id"]) for i in document["identities"]] == [("slack", "UMEM")]
            assert fake.calls_to("files.getUploadURLExternal") and fake.calls_to("files.completeUploadExternal")
            record = await app.store.people.identity(Identity("slack", "UMEM"))
            assert record is not None

            (button,) = buttons(await command(fake, "/coalition", "forget me", "UMEM"))
            assert button["value"] == "forget me confirm"
            await fake.send_block_action(user_id="UMEM", action_id=button["action_id"], value=button["value"])
            assert "Everything the bot held about you is erased" in text_of(await last_reply(fake))
            assert await app.store.people.identity(Identity("slack", "UMEM")) is None
            assert await rows_naming(app.db, record.person_id, {"UMEM", "mel"}) == []
