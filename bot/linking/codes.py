"""One-time link codes: made, shown, read back and hashed.

A code is 8 characters of Crockford's base32 (40 random bits), shown as ``ABCD-EFGH``. Crockford's alphabet has
no I, L, O or U, and reading folds the look-alikes (``i``/``l`` → 1, ``o`` → 0), so a code copied by eye from a
phone still reads; case, hyphens and spaces do not matter.

Only the SHA-256 of the canonical form is stored, never the code in clear. What that protects against: nobody
reads a code off the database, a backup or a query log by looking, and a code recovered from an old copy is dead
(used, replaced or past its 10 minutes). What it does not: the hash is unkeyed and the space is 40 bits, so whoever
holds a copy of the database while a code is live can find it by trying all 2^40 candidates offline (about 10^12
hashes: minutes on one GPU) and claim it within the 10 minutes. The issuer's confirmation, which names the
claiming account, is then what stands between them and a merge. A key kept outside the database (an HMAC) would
close that, at the cost of one more secret to configure.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
REFERENCE_LENGTH = 6
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", "- \t\u00a0\u2010\u2011\u2012\u2013\u2014")


def new_code() -> str:
    """A fresh code in canonical form (8 characters of :data:`ALPHABET`, no hyphen)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def new_reference() -> str:
    """A proposal's reference (6 characters of :data:`ALPHABET`): what its Confirm and Cancel buttons carry, so
    a button acts on the proposal it showed and no other. Not a secret (only the issuer can confirm), and not a
    code: 6 characters never read as one."""
    return "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))


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
