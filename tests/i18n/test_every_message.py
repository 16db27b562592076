"""Every message the bot can send, in every shipped language (issue 18, the closing test).

The real app (``build_app`` with the demo coalition) is driven, once per language, through every command the
registry declares — each with good and bad arguments, as the admin, a coordinator, a member and an outsider —
and through the scheduled messages (an announcement fan-out and its report, a digest, a reminder, a
missed-delivery summary, meeting notices). Every rendered message is captured and rendered again by each
platform's own text renderer (console, Slack Block Kit, Discord embeds). The test fails on:

- an untranslated string: a message id that the language's catalogue lacks (recorded by the translator as it
  renders, so a string that happens to read the same in both languages is not mistaken for English);
- a raw code: a ``{name}`` placeholder left unfilled, ``FREQ=``/``BYDAY=``, an enum's repr or name
  (``Answer.YES``), a bare enum value as a whole field or paragraph, English weekday or month names in
  non-English text;
- in a right-to-left language, unbalanced bidi isolates on any line of any platform's text;
- a command that crashed ("Something went wrong") or logged an error.

A command declared without an example here fails the test, naming it: add good and bad examples below.
"""

from __future__ import annotations

import enum
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

import app.assembly
from adapters.console import render_text
from adapters.discord.render import render_parts
from adapters.slack.blocks import render_slack_blocks
from app.demo.resources import DEMO_RESOURCES
from bot.bidi import balanced, is_rtl
from bot.commands.registry import CommandRegistry
from bot.commands.spec import ArgKind
from bot.i18n import LOCALES_DIR, Msg, Text, Translator, available_languages
from bot.messages import RenderedMessage
from tests.support import FixedClock, Harness, console_settings, harness, strings_in

ADMIN, COORDINATOR, MEMBER, OUTSIDER = "demo-admin", "demo-coordinator", "demo-member", "demo-outsider"
OK, ERROR, ANY = "ok", "error", "any"
NEW_RESOURCE = len(DEMO_RESOURCES) + 1
START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday

# Per command: (who, line, expected). "{lang}" is the language under test. Ids follow from the fresh demo
# database and the order below: meeting #1 is the demo's weekly call, requests #1 and #2 come from the
# subscriptions to "whrd-safety", announcement #1 is confirmed and #2 scheduled then cancelled.
EXAMPLES: dict[str, list[tuple[str, str, str]]] = {
    "help": [(OUTSIDER, "help", OK), (MEMBER, "help subscribe", OK), (ADMIN, "help topic create", OK),
             (MEMBER, "help nosuchcommand", ERROR)],
    "topics": [(OUTSIDER, "topics", OK), (MEMBER, "topics", OK), (ADMIN, "topics", OK)],
    "audit": [(ADMIN, "audit", OK), (ADMIN, "audit demo-member since:7d", OK), (ADMIN, "audit disinformation", OK),
              (ADMIN, "audit since:0", ERROR), (MEMBER, "audit", ERROR)],
    "mydata": [(OUTSIDER, "mydata", OK), (MEMBER, "mydata", OK)],
    "forget me": [(MEMBER, "forget me", OK), (MEMBER, "forget me maybe", ERROR)],
    "link": [(OUTSIDER, "link", OK), (MEMBER, "link AAAA-AAAA", ERROR), (MEMBER, "link confirm", ERROR),
             (MEMBER, "link cancel", ERROR)],
    "unlink": [(MEMBER, "unlink slack", ANY), (MEMBER, "unlink web", ERROR)],
    "settings platform": [(MEMBER, "settings platform all", OK), (MEMBER, "settings platform discord", ERROR)],
    "topic create": [(ADMIN, "topic create climate Climate justice visibility:members policy:approval "
                             'description:"Digital rights and the climate"', OK),
                     (ADMIN, "topic create Bad!Slug Title", ERROR), (MEMBER, "topic create other Other", ERROR)],
    "topic edit": [(ADMIN, 'topic edit climate title:"Climate and tech" visibility:public', OK),
                   (ADMIN, "topic edit nosuch title:x", ERROR),
                   (ADMIN, "topic edit climate visibility:everyone", ERROR)],
    "topic archive": [(ADMIN, "topic archive climate", OK), (COORDINATOR, "topic archive elections", ERROR)],
    "topic unarchive": [(ADMIN, "topic unarchive climate", OK), (ADMIN, "topic unarchive nosuch", ERROR)],
    "topic invite": [(ADMIN, "topic invite incident-response demo-member", OK),
                     (ADMIN, "topic invite incident-response nobody-at-all", ERROR)],
    "subscribe": [(MEMBER, "subscribe disinformation mode:weekly", OK), (MEMBER, "subscribe whrd-safety", ANY),
                  (COORDINATOR, "subscribe whrd-safety", ANY), (OUTSIDER, "subscribe cybersecurity", ERROR),
                  (MEMBER, "subscribe nosuch", ERROR), (MEMBER, "subscribe elections mode:hourly", ERROR)],
    "mysubs": [(MEMBER, "mysubs", OK), (OUTSIDER, "mysubs", OK), (ADMIN, "mysubs", OK)],
    "requests": [(ADMIN, "requests", OK), (MEMBER, "requests", ERROR)],
    "approve": [(ADMIN, "approve 1", OK), (ADMIN, "approve 99", ERROR)],
    "deny": [(ADMIN, 'deny 2 reason:"Not this time"', OK), (ADMIN, "deny abc", ERROR)],
    "unsubscribe": [(OUTSIDER, "unsubscribe disinformation", ANY), (MEMBER, "unsubscribe nosuch", ERROR)],
    "resources": [(OUTSIDER, "resources", OK), (MEMBER, "resources disinformation", OK),
                  (MEMBER, "resources page:2", ANY), (MEMBER, "resources page:999", ERROR),
                  (MEMBER, "resources nosuch", ERROR)],
    "resource search": [(MEMBER, "resource search election", OK), (MEMBER, "resource search zzqqxx", ANY),
                        (MEMBER, "resource search election kind:bogus", ERROR)],
    "resource show": [(MEMBER, "resource show 1", OK), (MEMBER, "resource show 999", ERROR)],
    "resource add": [(COORDINATOR, "resource add https://example.org/safety-guide Safety guide summary:A short "
                                   "guide kind:guide topics:disinformation tags:safety,guides lang:fr", OK),
                     (COORDINATOR, "resource add not-a-link Title", ERROR),
                     (OUTSIDER, "resource add https://example.org/x X", ERROR)],
    "resource edit": [(COORDINATOR, f'resource edit {NEW_RESOURCE} title:"Safety guide, second edition"', OK),
                      (COORDINATOR, "resource edit 999 title:x", ERROR)],
    "resource remove": [(COORDINATOR, f"resource remove {NEW_RESOURCE}", OK),
                        (COORDINATOR, "resource remove 999", ERROR)],
    "announce new": [(ADMIN, "announce new elections Observer training: https://example.org/training", OK),
                     (ADMIN, "announce new elections Scheduled note when:2026-11-30 09:00", OK),
                     (COORDINATOR, "announce new nosuch Hello", ERROR), (MEMBER, "announce new elections Hi", ERROR)],
    "announce confirm": [(ADMIN, "announce confirm 1", OK), (ADMIN, "announce confirm 99", ERROR)],
    "announce list": [(ADMIN, "announce list", OK), (ADMIN, "announce list elections", OK)],
    "announce edit": [(ADMIN, "announce edit 2 Scheduled note, corrected", OK), (ADMIN, "announce edit 99 x", ERROR)],
    "announce status": [(ADMIN, "announce status 1", OK), (ADMIN, "announce status 99", ERROR)],
    "announce retry": [(ADMIN, "announce retry 1", ANY), (ADMIN, "announce retry 99", ERROR)],
    "announce cancel": [(ADMIN, "announce cancel 2", OK), (ADMIN, "announce cancel 99", ERROR)],
    "setup public-channel": [(ADMIN, "setup public-channel general", ANY),
                             (MEMBER, "setup public-channel general", ERROR)],
    "setup topic-channel": [(ADMIN, "setup topic-channel elections elections-feed", ANY),
                            (ADMIN, "setup topic-channel nosuch feed", ERROR)],
    "meeting create": [(COORDINATOR, "meeting create disinformation Strategy 2026-11-24 10:00 duration:1h30m "
                                     "remind:1h link:https://meet.example.org/strategy zone:UTC", OK),
                       (COORDINATOR, "meeting create disinformation Drill 2026-11-23 13:00 remind:30m zone:UTC", OK),
                       (COORDINATOR, "meeting create disinformation Spare 2026-11-25 10:00 zone:Europe/Paris", OK),
                       (COORDINATOR, "meeting create disinformation Sync 2026-11-26 15:00 repeat:tue,thu "
                                     "zone:Europe/Lisbon", OK),
                       (COORDINATOR, "meeting create disinformation Monthly 2026-11-27 15:00 repeat:monthly", ANY),
                       (COORDINATOR, "meeting create disinformation Call someday", ERROR),
                       (COORDINATOR, "meeting create disinformation Call 2026-11-26 15:00 remind:9d", ERROR),
                       (MEMBER, "meeting create disinformation Call 2026-11-26 15:00", ERROR)],
    "meetings": [(OUTSIDER, "meetings", OK), (MEMBER, "meetings disinformation", OK),
                 (MEMBER, "meetings page:99", ANY), (MEMBER, "meetings page:0", ERROR)],
    "meeting show": [(MEMBER, "meeting show 1", OK), (MEMBER, "meeting show 5", OK),
                     (MEMBER, "meeting show 999", ERROR)],
    "rsvp": [(MEMBER, "rsvp 1 yes", OK), (COORDINATOR, "rsvp 2 maybe", OK), (MEMBER, "rsvp 5 no all", ANY),
             (MEMBER, "rsvp 1 perhaps", ERROR), (OUTSIDER, "rsvp 1 yes", ERROR)],
    "meeting attendees": [(COORDINATOR, "meeting attendees 1", OK), (MEMBER, "meeting attendees 1", ERROR)],
    "meeting ics": [(MEMBER, "meeting ics 1", OK), (MEMBER, "meeting ics 999", ERROR)],
    "meeting calendar": [(MEMBER, "meeting calendar disinformation", OK), (MEMBER, "meeting calendar nosuch", ERROR)],
    "meeting reschedule": [(COORDINATOR, "meeting reschedule 4 2026-11-25 11:30", OK),
                           (COORDINATOR, "meeting reschedule 5 2026-12-03 16:00 occurrence:2026-12-01", ANY),
                           (COORDINATOR, "meeting reschedule 4 whenever", ERROR)],
    "meeting cancel": [(COORDINATOR, "meeting cancel 5 occurrence:2026-11-26", ANY),
                       (COORDINATOR, "meeting cancel 4", OK), (COORDINATOR, "meeting cancel 999", ERROR)],
    "whoami": [(OUTSIDER, "whoami", OK), (MEMBER, "whoami", OK), (COORDINATOR, "whoami", OK), (ADMIN, "whoami", OK)],
    "settings timezone": [(MEMBER, "settings timezone Europe/Paris", OK),
                          (MEMBER, "settings timezone Mars/Base", ERROR)],
    "settings language": [(MEMBER, "settings language {lang}", OK), (MEMBER, "settings language xx", ERROR)],
    "role grant": [(ADMIN, "role grant demo-outsider member", OK), (ADMIN, "role grant demo-member king", ERROR),
                   (ADMIN, "role grant nobody-at-all member", ERROR),
                   (MEMBER, "role grant demo-outsider admin", ERROR)],
    "role revoke": [(ADMIN, "role revoke demo-outsider member", OK), (ADMIN, "role revoke demo-outsider admin", ANY)],
    "delivery status": [(ADMIN, "delivery status", OK), (MEMBER, "delivery status", ERROR)],
}
EXTRA_LINES = [(MEMBER, "frobnicate", ERROR), (MEMBER, "topic", ERROR), (MEMBER, "subscribe", ERROR),
               (MEMBER, "meeting show 1 extra words", ERROR)]
"""Lines that reach no command: unknown words, a group without its subcommand, missing and extra arguments."""

ENGLISH_CALENDAR = re.compile(
    r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|June|July|"
    r"August|September|October|November|December|Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun|Jan|Feb|Apr|Jun|"
    r"Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b")
PLACEHOLDER = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*\}(?!\})")
RULE_CODE = re.compile(r"\b(FREQ|BYDAY|BYMONTHDAY|BYSETPOS|INTERVAL|RRULE|UNTIL|COUNT)=")
ENUM_NAME = re.compile(r"\b(?:[A-Z][a-z]+)+\.[A-Z][A-Z0-9_]+\b|<[A-Za-z]+\.[A-Z_]+: ")
SYNTAX_PARAMS = frozenset({"name", "group", "command", "usage", "usages", "option", "example", "examples"})
"""Parameters that hold command syntax (argument names, command words), which stays English everywhere."""
SLACK_DATE = re.compile(r"<!date\^[^>]*>")
DURATION_CODE = re.compile(r"(?<![\w:,=.])\d+(?:h\d+m|[dwm])(?![\w,])")
"""``30m``, ``1d``, ``2w``, ``1h30m``: the typed shorthand, English letters, shown inside a sentence (a typed
option such as ``remind:24h,1h`` in help text is preceded by ``:`` or ``,`` and is not matched)."""


def enum_values() -> set[str]:
    """Every value of the core's string enums (choices, modes, kinds …): a field or paragraph that is only one
    of these is a code the reader was not meant to see. Not argument kinds: their values are also argument
    names, which are command syntax."""
    found: set[str] = set()
    pending: list[type[enum.Enum]] = [enum.StrEnum]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind.__module__.startswith(("bot.", "adapters.")) and kind is not ArgKind:
            found |= {str(member.value) for member in kind}
    return found


def catalogue(language: str) -> tuple[set[str], set[str]]:
    """Message ids (the singular of a plural entry) with a non-empty, non-fuzzy translation, and every text the
    language's readers may see from the catalogue (its translations; for English, the ids)."""
    template = "messages.pot" if language == "en" else f"{language}/LC_MESSAGES/messages.po"
    with (LOCALES_DIR / template).open("rb") as handle:
        catalog = read_po(handle, locale=None if language == "en" else language)
    ids: set[str] = set()
    texts: set[str] = set()
    for message in catalog:
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if message.id and not message.fuzzy and all(forms):
            ids.add(message.id[0] if isinstance(message.id, tuple) else message.id)
            texts.update(forms)
        elif message.id and language == "en":
            texts.update(message.id if isinstance(message.id, tuple) else (message.id,))
    return ids, texts


@dataclass
class Seen:
    """What one run showed, for the checks at the end."""

    language: str
    untranslated: dict[str, set[str]] = field(default_factory=dict)
    """msgid → where it was seen (the command line, or the scheduled step)."""
    raw_params: dict[str, set[str]] = field(default_factory=dict)
    """``msgid: name=value`` of a parameter that is an enum or an enum's bare value → where it was seen."""
    messages: list[tuple[str, RenderedMessage]] = field(default_factory=list)
    step: str = ""


def recording_translator(seen: Seen) -> type[Translator]:
    translated, labels = catalogue(seen.language)
    codes = enum_values() - labels  # a translated label may read like a code ("sent", "public")

    class Recording(Translator):
        """The real translator, noting every message id the reader's catalogue lacks."""

        def render(self, message: Msg, language: str | None) -> str:
            if isinstance(message, Text) and language == seen.language != "en" \
                    and not message.msgid.startswith("\x00") and message.msgid not in translated:
                seen.untranslated.setdefault(message.msgid, set()).add(seen.step)
            if isinstance(message, Text) and language == seen.language:
                for name, value in message.params:
                    if name in SYNTAX_PARAMS:
                        continue
                    # A code where a translated label belongs: ``policy=policy.value`` reads "approval" in French.
                    if isinstance(value, enum.Enum) or (isinstance(value, str) and value in codes):
                        key = f"{message.msgid[:60]!r}: {name}={value!r}"
                        seen.raw_params.setdefault(key, set()).add(seen.step)
            return super().render(message, language)

    return Recording


def platform_texts(message: RenderedMessage) -> dict[str, str]:
    """The message as each platform's renderer writes it."""
    slack = render_slack_blocks(message)
    discord: list[str] = []
    for part in render_parts(message):
        if part.embed is not None:
            discord += [part.embed.title or "", part.embed.description or "", part.embed.footer.text or ""]
            discord += [f"{f.name}\n{f.value}" for f in part.embed.fields]
        discord += [action.label for action in part.actions]
    return {
        "console": render_text(message, "Europe/Paris"),
        "slack": "\n".join([m.text for m in slack] + list(strings_in([m.blocks for m in slack]))),
        "discord": "\n".join(discord),
    }


def raw_codes(text: str, language: str, values: set[str], message: RenderedMessage) -> list[str]:
    problems = [f"placeholder {m}" for m in PLACEHOLDER.findall(text)]
    problems += [f"rule code {m.group(0)}" for m in RULE_CODE.finditer(text)]
    problems += [f"enum {m.group(0)}" for m in ENUM_NAME.finditer(text)]
    if language != "en":
        problems += [f"English calendar word {m.group(0)!r}" for m in ENGLISH_CALENDAR.finditer(text)]
        problems += [f"duration code {m.group(0)!r}" for m in DURATION_CODE.finditer(text)]
        shown = [f.value for f in message.fields] + list(message.body)
        problems += [f"bare code {value.strip()!r}" for value in shown if value.strip() in values]
    return problems


async def drive(h: Harness, seen: Seen) -> list[str]:
    """Every example, then the scheduled messages; returns the examples whose outcome was not the expected."""
    wrong: list[str] = []
    for name, examples in EXAMPLES.items():
        for user, line, expected in examples:
            line = line.format(lang=seen.language)
            seen.step = f"{user}: {line}"
            reply = await h.say(user, line)
            seen.messages.append((seen.step, reply.message))
            outcome = ERROR if reply.message.is_error else OK
            if expected != ANY and outcome != expected:
                wrong.append(f"{name}: {seen.step} → {outcome}, expected {expected}: "
                             f"{reply.message.plain_text()[:200]!r}")
        if name == "announce confirm":
            seen.step = "announcement fan-out and report"
            await h.app.run_due()
    for user, line, expected in EXTRA_LINES:
        seen.step = f"{user}: {line}"
        reply = await h.say(user, line)
        seen.messages.append((seen.step, reply.message))
        if (ERROR if reply.message.is_error else OK) != expected:
            wrong.append(f"{seen.step}: expected {expected}")
    await scheduled(h, seen)
    return wrong


async def scheduled(h: Harness, seen: Seen) -> None:
    """Time passes: the missed reminder of "Drill" (13:00, reminder 12:30, nothing ran meanwhile), the daily
    digest at 08:00, the reminder of "Strategy" (10:00, reminder 09:00)."""
    for step, when in (("missed-delivery summary", datetime(2026, 11, 23, 13, 30, tzinfo=UTC)),
                       ("daily digest", datetime(2026, 11, 24, 8, 5, tzinfo=UTC)),
                       ("meeting reminder", datetime(2026, 11, 24, 9, 5, tzinfo=UTC)),
                       ("weekly digest and the scheduled announcement's day",
                        datetime(2026, 11, 30, 9, 5, tzinfo=UTC))):
        seen.step = step
        h.clock.current = when
        await h.app.run_due()


def capture_deliveries(h: Harness, seen: Seen) -> None:
    """Record what the console adapter is asked to deliver, before it renders it (its own labels go through
    the recording translator as it prints)."""
    console = h.app.console
    assert console is not None
    send_direct, send_channel, edit = console.send_direct, console.send_channel, console.edit

    async def direct(recipient: Any, message: RenderedMessage, *, delivery_key: str) -> Any:
        seen.messages.append((f"{seen.step} → DM {recipient.identity.external_id}", message))
        return await send_direct(recipient, message, delivery_key=delivery_key)

    async def channel(channel_id: str, message: RenderedMessage, *, delivery_key: str) -> Any:
        seen.messages.append((f"{seen.step} → #{channel_id}", message))
        return await send_channel(channel_id, message, delivery_key=delivery_key)

    async def edited(sent: Any, message: RenderedMessage) -> Any:
        seen.messages.append((f"{seen.step} → edit", message))
        return await edit(sent, message)

    # Instance attributes: the delivery worker's outlet holds this very adapter and looks the methods up.
    setattr(console, "send_direct", direct)  # noqa: B010
    setattr(console, "send_channel", channel)  # noqa: B010
    setattr(console, "edit", edited)  # noqa: B010


def test_every_declared_command_has_examples() -> None:
    declared = {command.name for command in CommandRegistry(app.assembly.all_commands()).commands}
    missing = sorted(declared - set(EXAMPLES))
    stale = sorted(set(EXAMPLES) - declared)
    assert not missing, f"commands with no example in {__name__}.EXAMPLES (add good and bad ones): {missing}"
    assert not stale, f"examples for commands that are no longer declared: {stale}"
    for name, examples in EXAMPLES.items():
        kinds = {expected for _, _, expected in examples}
        assert OK in kinds or ANY in kinds, f"{name}: no example that should succeed"


@pytest.mark.parametrize("language", available_languages())
async def test_every_message_in_every_language(language: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    seen = Seen(language)
    monkeypatch.setattr(app.assembly, "Translator", recording_translator(seen))
    caplog.set_level(logging.ERROR)
    settings = console_settings(tmp_path, language=language)
    async with harness(settings, FixedClock(START)) as h:
        capture_deliveries(h, seen)
        unexampled = sorted({c.name for c in h.app.dispatcher.registry.commands} - set(EXAMPLES))
        assert not unexampled, f"commands with no example in {__name__}.EXAMPLES (add good and bad ones): {unexampled}"
        assert h.app.console is not None
        seen.step = "console greeting"
        await h.app.console.greet()
        seen.step = "console line"
        await h.app.console.handle_line("whoami")
        wrong = await drive(h, seen)
        console_output = h.console_output()

    values = enum_values()
    problems: list[str] = []
    kinds: set[str] = set()
    for where, message in seen.messages:
        for platform, text in platform_texts(message).items():
            if platform == "console":
                problems += [f"{where}: {p}" for p in raw_codes(text, language, values, message)]
            if is_rtl(language):
                bad = [line for line in SLACK_DATE.sub("", text).splitlines() if not balanced(line)]
                problems += [f"{where} [{platform}]: unbalanced isolates in {line!r}" for line in bad]
        kinds.add(where.split(" → ")[-1].split(" ")[0] if " → " in where else "reply")
    if language != "en":
        problems += [f"console output: English calendar word {m.group(0)!r}"
                     for m in ENGLISH_CALENDAR.finditer(console_output)]
    problems += [f"console output: placeholder {m}" for m in PLACEHOLDER.findall(console_output)]
    crashed = [where for where, message in seen.messages if "Something went wrong" in message.plain_text()]
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]

    report = []
    if seen.untranslated:
        report.append(f"{len(seen.untranslated)} untranslated message ids in {language}:")
        report += [f"  {msgid!r} (seen at: {sorted(steps)[0]})" for msgid, steps in sorted(seen.untranslated.items())]
    if seen.raw_params:
        report.append(f"{len(seen.raw_params)} parameters given as a code, not a translated label:")
        report += [f"  {key} (seen at: {sorted(steps)[0]})" for key, steps in sorted(seen.raw_params.items())]
    if problems:
        report.append(f"{len(problems)} raw codes or layout problems:")
        report += [f"  {p}" for p in dict.fromkeys(problems)]
    if wrong:
        report.append("examples with an unexpected outcome (fix the example or the bot):")
        report += [f"  {w}" for w in wrong]
    if crashed or errors:
        report.append(f"crashed: {crashed}; errors logged: {errors}")
    assert {"DM", "reply"} <= kinds, f"nothing delivered? {kinds}"
    assert not report, "\n".join(report)
