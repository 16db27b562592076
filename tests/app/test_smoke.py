from tests.support import Harness


async def test_topics_lists_demo_topics(h: Harness) -> None:
    text = await h.text("demo-admin", "/topics")
    assert "disinformation" in text and "incident-response" in text
