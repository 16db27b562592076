"""One-time link codes: made, shown, read back and hashed.

A code is 8 characters of Crockford's base32 (40 random bits), shown as ``ABCD-EFGH``. Crockford's alphabet has
no I, L, O or U, and reading folds the look-alikes (``i``/``l`` → 1, ``o`` → 0), so a code copied by eye from a
phone still reads; case, hyphens and spaces do not matter. Only the SHA-256 of the canonical form is stored: a
code is never written anywhere in clear, so a copy of the database (or a log of it) cannot be used to link.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", "- \t\u00a0\u2010\u2011\u2012\u2013\u2014")


def new_code() -> str:
    """A fresh code in canonical form (8 characters of :data:`ALPHABET`, no hyphen)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """``ABCDEFGH`` as people read and type it: ``ABCD-EFGH``."""
    return f"{code[:4]}-{code[4:]}"


def canonical(typed: str) -> str | None:
    """The code ``typed`` names (upper case, look-alikes folded, hyphens and spaces dropped), or ``None`` when it
    cannot be a code at all."""
    code = typed.upper().translate(_IGNORED).translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    """What is stored for a canonical code: its SHA-256, in hex."""
    return hashlib.sha256(f"coalition-bot/link:{code}".encode("ascii")).hexdigest()
