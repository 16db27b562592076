"""Scheduled work runs where this process leads: always alone (SQLite), only on the leader among several."""

from __future__ import annotations

from app.cluster import Alone, led


class _Follower(Alone):
    """A process that does not lead (another one holds the leader's lock)."""

    leader = False


async def test_scheduled_work_runs_alone_and_on_the_leader_only() -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("ran")

    await led(Alone(), job)()
    await led(_Follower(), job)()
    assert runs == ["ran"]


def test_a_bucket_takes_its_share_of_the_budget_and_refuses_a_share_outside_0_to_1() -> None:
    import pytest

    from bot.delivery.pacing import TokenBucket

    bucket = TokenBucket(10.0, 10.0)
    bucket.set_share(0.25)
    assert bucket.pace == 2.5 and bucket.cap == 2.5
    bucket.set_share(0.01)
    assert bucket.cap == 1.0  # never below one token, or nothing would ever be sent
    for wrong in (0.0, 1.5):
        with pytest.raises(ValueError, match="share"):
            bucket.set_share(wrong)
