"""The text grammar shared by Slack and the console: ``/command [sub] positional… [name:value …]``.

Multi-word arguments are wrapped in straight or curly double quotes (phones insert curly ones); the last
argument may take the rest of the line; ``name:value`` options are recognised anywhere, but only for names
the command declares, so ``https://…`` or ``Note: …`` in a text stay text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.commands.spec import Command
from bot.errors import UsageError
from bot.i18n import _

OPENING_QUOTES = "\"“”„«"
CLOSING_QUOTES = "\"“”»"
_OPTION_PREFIX = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):")
MAX_LINE = 8000


@dataclass(frozen=True, slots=True)
class Token:
    value: str
    start: int
    end: int
    quoted: bool
    option: str | None = None


def tokenize(line: str, *, strict: bool = True) -> list[Token]:
    """Split ``line`` into tokens, keeping each token's span in the line for rest arguments.

    ``strict``: an unclosed quote is a usage error; otherwise it is an ordinary character (free text such
    as an announcement may quote someone without closing the quote).
    """
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        option = None
        prefix = _OPTION_PREFIX.match(line, i)
        if prefix and prefix.end() < n and line[prefix.end()] in OPENING_QUOTES:
            option = prefix.group(1)
            i = prefix.end()
        close = _find_closing_quote(line, i + 1) if line[i] in OPENING_QUOTES else None
        if line[i] in OPENING_QUOTES and close is None and strict:
            raise UsageError(_("A quote is not closed. Wrap a multi-word value in a pair of double quotes."))
        if close is not None:
            value = line[i + 1:close]
            i = close + 1
            tokens.append(Token(value=value if option is None else f"{option}:{value}", start=start, end=i,
                                quoted=True, option=option))
            continue
        i = start
        while i < n and not line[i].isspace():
            i += 1
        tokens.append(Token(value=line[start:i], start=start, end=i, quoted=False))
    return tokens


def _find_closing_quote(line: str, i: int) -> int | None:
    """The next closing quote that ends a word — followed by a space, punctuation or the end — so ``5"``
    inside a value does not end it early, and ``“Guide”,`` does."""
    while i < len(line):
        if line[i] in CLOSING_QUOTES and (i + 1 == len(line) or line[i + 1].isspace()
                                           or unicodedata.category(line[i + 1]).startswith("P")):
            return i
        i += 1
    return None


def split_command(line: str, known_words: Mapping[str, set[str] | None]) -> tuple[tuple[str, ...], str]:
    """Find the command path at the start of ``line``; returns (path, remainder).

    ``known_words`` maps each top-level word to its subcommands (``None`` for a plain command).
    Raises :class:`UsageError` for an unknown word; a group without a subcommand gives ``(group,)``.
    """
    stripped = line.strip()
    if len(stripped) > MAX_LINE:
        raise UsageError(_("That is too long: at most {limit} characters.", limit=MAX_LINE))
    if not stripped:
        raise UsageError(_("Type a command, or “help” to see what you can do."))
    word, _sep, remainder = stripped.lstrip("/").partition(" ")
    word = word.lower()
    if word not in known_words:
        raise UsageError(_("Unknown command “{command}”. Type “help” to see what you can do.", command=word))
    subcommands = known_words[word]
    if subcommands is None:
        return (word,), remainder
    sub, _sep, rest = remainder.strip().partition(" ")
    if sub.lower() in subcommands:
        return (word, sub.lower()), rest
    return (word,), remainder


def parse_arguments(command: Command, text: str) -> dict[str, str]:
    """Bind the text after the command words to ``command``'s declared arguments and options."""
    has_rest = any(arg.rest for arg in command.args)
    try:
        tokens = tokenize(text)
    except UsageError:
        if not has_rest:
            raise
        tokens = tokenize(text, strict=False)  # free text may contain a lone quote
    option_names = {option.name for option in command.options}
    values: dict[str, str] = {}
    positional: list[Token] = []
    for token in tokens:
        name, sep, value = token.value.partition(":")
        quoted_text = token.quoted and token.option is None  # "when: …" in quotes is text, not an option
        if sep and not quoted_text and name.lower() in option_names:
            if name.lower() in values:
                raise UsageError(_("The option “{name}” is given twice.", name=name.lower()))
            values[name.lower()] = value
            continue
        positional.append(token)
    option_spans = [t for t in tokens if t not in positional]

    index = 0
    for arg in command.args:
        if index >= len(positional):
            if arg.required:
                raise UsageError(_("Missing “{name}”.", name=arg.name))
            break
        if arg.rest:
            remaining = positional[index:]
            if len(remaining) == 1 and remaining[0].quoted:
                values[arg.name] = remaining[0].value
            else:
                values[arg.name] = _unwrap(_cut(text, remaining[0].start, option_spans).strip())
            index = len(positional)
        else:
            values[arg.name] = positional[index].value
            index += 1
    if index < len(positional):
        raise UsageError(_("Too many arguments: “{extra}” was not expected.", extra=positional[index].value))

    return validate(command, values)


def validate(command: Command, values: Mapping[str, str]) -> dict[str, str]:
    """Check lengths, emptiness, choices and required arguments; used for typed platform options too."""
    checked = {key: value for key, value in values.items() if value is not None}
    declared = {arg.name: (arg.max_length, arg.choices) for arg in command.args}
    declared.update({option.name: (option.max_length, option.choices) for option in command.options})
    for name in checked:
        if name not in declared:
            raise UsageError(_("Unknown option “{name}”.", name=name))
    for arg in command.args:
        if arg.required and arg.name not in checked:
            raise UsageError(_("Missing “{name}”.", name=arg.name))
    for name, value in list(checked.items()):
        max_length, choices = declared[name]
        _check_value(name, value, max_length, choices)
        if choices:
            checked[name] = value.lower()
    return checked


def _unwrap(text: str) -> str:
    """``"A "quoted" word"`` → ``A "quoted" word``: a rest argument wrapped in quotes that also contains
    quotes is not one quoted token (its first closing quote comes early), but the wrapping is still meant.

    Only when the quotes inside pair up as an opening one (after a space) then a closing one (before a
    space, punctuation or the end): ``"Quoted" and "more"`` starts and ends with quotes that are not a pair.
    """
    if len(text) < 2 or text[0] not in OPENING_QUOTES or text[-1] not in CLOSING_QUOTES:
        return text
    inner = text[1:-1]
    expecting_open = True
    for i, character in enumerate(inner):
        if character not in OPENING_QUOTES and character not in CLOSING_QUOTES:
            continue
        before = inner[i - 1] if i else " "
        after = inner[i + 1] if i + 1 < len(inner) else " "
        if expecting_open and before.isspace() and not after.isspace():
            expecting_open = False
        elif not expecting_open and (after.isspace() or unicodedata.category(after).startswith("P")):
            expecting_open = True
        else:
            return text
    return inner.strip() if expecting_open else text


def _cut(text: str, start: int, removed: list[Token]) -> str:
    """``text[start:]`` without the option tokens inside it; spacing elsewhere (indentation) is kept."""
    result, cursor = "", start
    for token in sorted(removed, key=lambda t: t.start):
        if token.start < start:
            continue
        result += text[cursor:token.start].rstrip(" \t")
        cursor = token.end
        while cursor < len(text) and text[cursor] in " \t":
            cursor += 1
        if result and not result.endswith("\n") and cursor < len(text) and text[cursor] != "\n":
            result += " "
    return result + text[cursor:]


def _check_value(name: str, value: str, max_length: int, choices: tuple[str, ...]) -> None:
    if not value.strip():
        raise UsageError(_("“{name}” must not be empty.", name=name))
    if len(value) > max_length:
        raise UsageError(_("“{name}” is too long: at most {limit} characters.", name=name, limit=max_length))
    if choices and value.lower() not in choices:
        raise UsageError(_("“{name}” must be one of: {choices}.", name=name, choices=", ".join(choices)))
