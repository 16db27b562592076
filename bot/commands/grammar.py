"""The text grammar shared by Slack and the console: ``/command [sub] positional… [name:value …]``.

Multi-word arguments are wrapped in straight or curly double quotes (phones insert curly ones); the last
argument may take the rest of the line; ``name:value`` options are recognised anywhere, but only for names
the command declares, so ``https://…`` or ``Note: …`` in a text stay text. A time option or argument
(:attr:`~bot.commands.spec.ArgKind.TIME`) takes the words that form a time, so it needs no quotes either.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from bot.commands.spec import Arg, ArgKind, Command, Option, choice_names
from bot.errors import UsageError, UserError
from bot.i18n import _, _n
from bot.when import fold, time_length

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
        raise UsageError(_n("That is too long: at most {n} character.", "That is too long: at most {n} characters.",
                            MAX_LINE))
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


def parse_arguments(command: Command, text: str, language: str | None = None) -> dict[str, str]:
    """Bind the text after the command words to ``command``'s declared arguments and options.

    ``language``: the reader's, whose words (and English ones) a time or a choice may be typed in; ``None``
    when the caller does not know it — then a time takes as many words as it could in any language and a
    choice word of any language is kept as typed, for :class:`~bot.commands.context.Context` to read in the
    reader's language (refusing a word of another one)."""
    tokens = _tokens(command, text)
    values, positional, option_spans = _take_options(command, tokens, text, language)
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
        elif arg.kind is ArgKind.TIME and not positional[index].quoted:
            run = _adjacent_words(text, tokens, positional[index:])
            taken = max(_time_length([t.value for t in run], language), 1)  # not a time at all: the handler says so
            values[arg.name] = " ".join(t.value for t in run[:taken])
            index += taken
        else:
            values[arg.name] = positional[index].value
            index += 1
    if index < len(positional):
        raise UsageError(_("Too many arguments: “{extra}” was not expected.", extra=positional[index].value))

    return validate(command, values, language)


def positional_tokens(command: Command, text: str, language: str | None = None) -> list[Token]:
    """The tokens of ``text`` left for positional arguments: not an option, nor a word a time option took."""
    return _take_options(command, _tokens(command, text), text, language)[1]


def _tokens(command: Command, text: str) -> list[Token]:
    try:
        return tokenize(text)
    except UsageError:
        if not any(arg.rest for arg in command.args):
            raise
        return tokenize(text, strict=False)  # free text may contain a lone quote


def _option_name(token: Token, names: Mapping[str, Option]) -> str | None:
    """The declared option ``token`` gives, if any (``"when: …"`` in quotes is text, not an option)."""
    name, sep, _value = token.value.partition(":")
    if not sep or (token.quoted and token.option is None) or name.lower() not in names:
        return None
    return name.lower()


def _take_options(command: Command, tokens: list[Token], text: str,
                  language: str | None = None) -> tuple[dict[str, str], list[Token], list[Token]]:
    """(option values, positional tokens, option spans to cut from a rest argument).

    An unquoted time option (:attr:`ArgKind.TIME`) also takes the words after it that continue its time
    (``when:monday 14:00``), as many as :func:`bot.when.time_length` says; a time they begin but do not finish
    is refused there, since where it ends cannot be told.
    """
    options = {option.name: option for option in command.options}
    values: dict[str, str] = {}
    positional: list[Token] = []
    spans: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        name = _option_name(token, options)
        if name is None:
            positional.append(token)
            continue
        if name in values:
            raise UsageError(_("The option “{name}” is given twice.", name=name))
        value = token.value.partition(":")[2]
        end = token.end
        if options[name].kind is ArgKind.TIME and not token.quoted:
            following = _adjacent_words(text, tokens, tokens[index:], options, after=token)
            words = ([value] if value else []) + [t.value for t in following]
            taken = _time_length(words, language) or (1 if value else 0)
            extra = following[:taken - (1 if value else 0)]
            value = " ".join(words[:taken])
            end = extra[-1].end if extra else end
            index += len(extra)
        values[name] = value
        spans.append(Token(value=token.value, start=token.start, end=end, quoted=token.quoted, option=name))
    return values, positional, spans


def _time_length(words: list[str], language: str | None) -> int:
    """:func:`bot.when.time_length`, its refusal a usage error like every other grammar error."""
    try:
        return time_length(words, language)
    except UserError as error:
        raise UsageError(error.message) from None


def _adjacent_words(text: str, tokens: list[Token], candidates: list[Token],
                    options: Mapping[str, Option] | None = None, *, after: Token | None = None) -> list[Token]:
    """The leading ``candidates`` that follow each other (and ``after``) in ``tokens`` on one line, unquoted and
    no option: the words a time may take. A time never continues on the next line."""
    run: list[Token] = []
    previous = after
    position = tokens.index(candidates[0]) if candidates else 0
    for token in candidates:
        if token.quoted or position >= len(tokens) or tokens[position] is not token \
                or (options is not None and _option_name(token, options) is not None) \
                or (previous is not None and "\n" in text[previous.end:token.start]):
            break
        run.append(token)
        previous = token
        position += 1
    return run


def validate(command: Command, values: Mapping[str, str], language: str | None = None) -> dict[str, str]:
    """Check lengths, emptiness, choices and required arguments; used for typed platform options too.

    A choice comes out as its declared value when ``language`` (the reader's) says which word it is
    (``oui`` → ``yes`` for a French reader); with ``language=None`` a word of another language is kept folded
    for :meth:`~bot.commands.context.Context.choice` to read in the reader's language."""
    checked = {key: value for key, value in values.items() if value is not None}
    declared: dict[str, Arg | Option] = {arg.name: arg for arg in command.args}
    declared.update({option.name: option for option in command.options})
    for name in checked:
        if name not in declared:
            raise UsageError(_("Unknown option “{name}”.", name=name))
    for arg in command.args:
        if arg.required and arg.name not in checked:
            raise UsageError(_("Missing “{name}”.", name=arg.name))
    for name, value in list(checked.items()):
        _check_value(name, value, declared[name].max_length)
        if declared[name].choices:
            checked[name] = read_choice(declared[name], value, language, keep=language is None)
    return checked


def read_choice(declared: Arg | Option, value: str, language: str | None, *, keep: bool = False) -> str:
    """The declared choice ``value`` names for a reader of ``language`` (``keep``: a word that names one in
    some language is returned folded, to be read once the reader's language is known). Raises
    :class:`UsageError` listing the choices in the reader's words."""
    if value.lower() in declared.choices:
        return value.lower()
    found = declared.choice_for(value, language)
    if found is not None:
        return fold(value) if keep else found
    raise UsageError(_("“{name}” must be one of: {choices}.", name=declared.name,
                       choices=", ".join(choice_names(declared, language))))


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


# A lone UTF-16 surrogate (half of an emoji, which Slack and Discord JSON can deliver as "\ud83d") is a valid
# Python string that no UTF-8 database or platform API accepts; a NUL character (JSON's "\u0000") is one that
# PostgreSQL's text cannot hold. Neither means anything in a message.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unstorable(text: str | None, values: Mapping[str, str]) -> None:
    """Refuse a command whose text or option values the database could not store, before anything runs
    (and before a reply could echo the broken text back to a platform that would reject it too)."""
    if any(part and _UNSTORABLE.search(part) for part in (text, *values.keys(), *values.values())):
        raise UserError(_("Your command contains a broken character (half of an emoji or symbol) that cannot "
                          "be saved; nothing was changed. Please type it again."))


def storable(text: str) -> str:
    """``text`` with each broken character shown as "�": for names the platform gives us, never refused."""
    return _UNSTORABLE.sub("\ufffd", text)


def _check_value(name: str, value: str, max_length: int) -> None:
    if not value.strip():
        raise UsageError(_("“{name}” must not be empty.", name=name))
    if len(value) > max_length:
        raise UsageError(_n("“{name}” is too long: at most {n} character.",
                            "“{name}” is too long: at most {n} characters.", max_length, name=name))
