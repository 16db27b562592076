"""``python -m bot`` / ``coalition-bot``: run, migrate, check-config."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.settings import Settings
from storage.database import Database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coalition-bot", description="A chat bot for civil-society coalitions.")
    parser.add_argument("--config", type=Path, default=None, help="settings file (default: ./settings.toml)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: WARNING on the "
                        "console, INFO otherwise)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate the database and start the bot")
    run.add_argument("--user", default=None, help="console only: who you are (default: [console] user)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("check-config", help="print the effective settings, secrets masked")
    commands.add_parser("slack-manifest", help="print the Slack app manifest generated from the commands")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(args.config)
    except ValidationError as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)  # noqa: T201
        return 2
    if getattr(args, "user", None):
        settings.console.user = args.user
    level = args.log_level or ("WARNING" if settings.console_only else "INFO")
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check-config":
        print(json.dumps(settings.masked(), indent=2))  # noqa: T201
        return 0
    if args.command == "slack-manifest":
        from adapters.slack.manifest import manifest_json

        print(manifest_json(settings))  # noqa: T201
        return 0
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))  # noqa: T201
        return 0
    from bot.app import run

    asyncio.run(run(settings))
    return 0


async def _migrate(settings: Settings) -> list[str]:
    async with Database.open(settings.storage.path, migrate=False) as db:
        return await db.migrate()


if __name__ == "__main__":
    sys.exit(main())
