"""``[discord]`` in settings.toml: the Discord adapter's own section (the composition root reads the file).

No discord.py here: ``check-config`` loads this without the SDK.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr, model_validator


class DiscordSettings(BaseModel):
    token: SecretStr | None = None
    guild_id: int | None = None
    application_id: int | None = None
    """For ``discord-invite`` (Developer Portal → General Information → Application ID); read from the token
    when left out. At run time the bot takes it from Discord."""
    member_role: str | None = None
    coordinator_role: str | None = None
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str | None = None
    global_sync: bool = False
    shard_count: int | None = None
    """How many shards the bot's gateway is split into (Discord requires it past 2,500 servers); unset: one."""
    shard_ids: list[int] | None = None
    """The shards this process may hold, each in ``range(shard_count)``; unset: all of them. Several processes
    on one PostgreSQL database take turns on each shard (one holds a shard's gateway at a time)."""

    @model_validator(mode="after")
    def _shards_fit(self) -> DiscordSettings:
        if self.shard_count is not None and self.shard_count < 1:
            raise ValueError(f"shard_count must be at least 1, not {self.shard_count}")
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("shard_ids needs shard_count (how many shards there are in all)")
        if not self.shard_ids:
            raise ValueError("shard_ids must name at least one shard, or be left out (all shards)")
        outside = sorted({shard for shard in self.shard_ids if not 0 <= shard < self.shard_count})
        if outside:
            raise ValueError(f"shard_ids {outside} are outside 0…{self.shard_count - 1} "
                             f"(shard_count is {self.shard_count})")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError(f"shard_ids lists a shard twice: {self.shard_ids}")
        return self

    @property
    def shards(self) -> tuple[int, tuple[int, ...]]:
        """``(shard_count, the shard ids this process may hold)``: ``(1, (0,))`` unless configured."""
        count = self.shard_count or 1
        return count, tuple(self.shard_ids) if self.shard_ids is not None else tuple(range(count))

    @property
    def configured(self) -> bool:
        return self.token is not None and bool(self.token.get_secret_value())
