"""The command line, ``python -m bot`` / ``coalition-bot``: run, migrate, check-config, import-resources,
copy-storage, slack-manifest, discord-invite."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path

from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from adapters.email.settings import EmailSettings
from app.settings import Settings, StorageSettings
from bot.meetings.ics import coalition_slug
from storage.database import Database


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coalition-bot", description="A chat bot for civil-society coalitions.")
    parser.add_argument("--config", type=Path, default=None, help="settings file (default: ./settings.toml)")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: WARNING on the "
                        "console, INFO otherwise)")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="migrate the database and start the bot")
    run.add_argument("--user", default=None, help="console only: who you are (default: [console] user)")
    run.add_argument("--email-to-folder", type=Path, default=None, metavar="DIR",
                     help="turn email on and write each mail as an .eml file in DIR instead of sending it")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("check-config", help="print the effective settings, secrets masked")
    importer = commands.add_parser("import-resources", help="add or update library resources from a CSV file "
                                   "(columns: url,title,summary,kind,topics,tags,lang,visibility)")
    importer.add_argument("file", type=Path, help="CSV file, UTF-8, first line naming the columns")
    copier = commands.add_parser(
        "copy-storage", help="copy every row of one database into another, empty one (SQLite to PostgreSQL or back);"
        " stop the bot first")
    copier.add_argument("source", help="postgresql://… URL, sqlite:///relative.db, sqlite:////absolute.db or a path")
    copier.add_argument("target", help="the same forms; it must hold no coalition yet (it is migrated first)")
    commands.add_parser("slack-manifest", help="print the Slack app manifest generated from the commands")
    commands.add_parser("discord-invite", help="print the URL that adds the Discord bot to a server with the "
                        "permissions it needs")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(args.config)
    except (ValidationError, SettingsError) as error:
        print(f"Invalid settings:\n{error}", file=sys.stderr)  # noqa: T201
        return 2
    if getattr(args, "user", None):
        settings.console.user = args.user
    if getattr(args, "email_to_folder", None):
        settings.email = mail_to_folder(settings.email, args.email_to_folder, settings.coalition.name)
    level = args.log_level or ("WARNING" if settings.console_only else "INFO")
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "check-config":
        print(json.dumps(settings.masked(), indent=2))  # noqa: T201
        return 0
    if args.command == "slack-manifest":
        from adapters.slack.manifest import build_manifest
        from app.commands import all_commands
        from bot.commands.registry import CommandRegistry

        print(json.dumps(build_manifest(settings, CommandRegistry(all_commands())), indent=2,  # noqa: T201
                         ensure_ascii=False))
        return 0
    if args.command == "discord-invite":
        from adapters.discord.invite import print_invite

        return print_invite(settings.discord)
    if args.command == "import-resources":
        return asyncio.run(_import_resources(settings, args.file))
    if args.command == "copy-storage":
        return asyncio.run(_copy_storage(args.source, args.target))
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))  # noqa: T201
        return 0
    from app.assembly import AlreadyRunning, run

    try:
        asyncio.run(run(settings))
    except AlreadyRunning as error:
        print(f"{error}; stop it first, or set another [storage] path.", file=sys.stderr)  # noqa: T201
        return 1
    except Exception as error:
        lost = _database_lost(error)
        if lost is None:
            raise
        print(f"{lost}.", file=sys.stderr)  # noqa: T201
        return 3
    return 0


def _database_lost(error: BaseException) -> BaseException | None:
    """The PostgreSQL connection was lost (inside the task group that serves): the process ends non-zero, for its
    supervisor to start it again."""
    from storage.postgres_cluster import DatabaseLost

    if isinstance(error, DatabaseLost):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _database_lost(inner)
            if found is not None:
                return found
    return None


def mail_to_folder(email: EmailSettings, folder: Path, coalition: str) -> EmailSettings:
    """``--email-to-folder``: email on, every mail written to ``folder``; without a configured sender the mails
    come from an address under ``.invalid`` (reserved: nothing can ever be delivered to or from it)."""
    sender = email.from_address or f"{coalition_slug(coalition)}@example.invalid"
    return email.model_copy(update={"enabled": True, "to_folder": folder, "from_address": sender})


async def _import_resources(settings: Settings, path: Path) -> int:
    """Print the report; exit status 0 when every row was imported, 1 when some were rejected, 2 when the
    file could not be read at all."""
    from bot.clock import SystemClock
    from bot.errors import UserError
    from bot.i18n import Translator
    from bot.resources.csv_import import import_resources, read_rows
    from storage.store import SqliteStore

    translator = Translator.load()
    language = settings.core_config().default_language
    try:
        rows = read_rows(await asyncio.to_thread(path.read_bytes))
    except OSError as error:
        print(f"{path}: {error}", file=sys.stderr)  # noqa: T201
        return 2
    except UserError as error:
        print(f"{path}: {translator.render(error.message, language)}", file=sys.stderr)  # noqa: T201
        return 2
    async with Database.open(settings.storage.target) as db:
        report = await import_resources(SqliteStore(db), rows, SystemClock().now(), default_language=language,
                                        source=path.name)
    print(report.render(translator, language))  # noqa: T201
    return 1 if report.rejected else 0


def _storage(where: str) -> StorageSettings:
    """A URL (postgresql://, sqlite:///) or a plain SQLite path, as ``[storage]`` would name it."""
    if where.startswith(("postgresql://", "postgres://", "sqlite:///")):
        return StorageSettings(url=SecretStr(where))
    return StorageSettings(path=Path(where))


async def _copy_storage(source_name: str, target_name: str) -> int:
    """Exit 0 with the rows per table; 1 when refused (a bot running on either, a target that is not empty)."""
    from app.instance import AlreadyRunning, open_storage
    from storage.copy import SchemaMismatch, TargetNotEmpty, copy_storage

    try:
        source_settings, target_settings = _storage(source_name), _storage(target_name)
    except ValidationError as error:
        print(f"Invalid storage: {error}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        async with (open_storage(source_settings, sole=True) as source,
                    open_storage(target_settings, sole=True) as target):
            copied = await copy_storage(source, target)
    except (AlreadyRunning, TargetNotEmpty, SchemaMismatch) as error:
        print(f"Not copied: {error}.", file=sys.stderr)  # noqa: T201
        return 1
    width = max(len(c.table) for c in copied)
    for table_copy in copied:
        print(f"{table_copy.table:<{width}}  {table_copy.rows:>9}")  # noqa: T201
    print(f"Copied {sum(c.rows for c in copied)} rows in {len(copied)} tables; "  # noqa: T201
          "each table's count checked on both sides.")
    return 0


async def _migrate(settings: Settings) -> list[str]:
    async with Database.open(settings.storage.target, migrate=False) as db:
        return await db.migrate()


if __name__ == "__main__":
    sys.exit(main())
