"""One person on every platform: ``link`` joins two identities' people with a one-time code, ``unlink`` splits one
platform's identities off again."""
