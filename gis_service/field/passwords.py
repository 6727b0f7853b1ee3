"""Password hashes: hashlib.scrypt with a random salt, stored as one self-describing string."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """scrypt$N$r$p$salt$key for a password (about 60 characters)."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether a password matches a stored hash (False for no or a malformed hash)."""
    if not stored:
        return False
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, key = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        found = hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(key), maxmem=64 * 1024 * 1024
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, key)


def spend_time() -> None:
    """Hash a throwaway password so an unknown user costs as long as a wrong password."""
    hashlib.scrypt(b"-", salt=b"0" * SALT_BYTES, n=N, r=R, p=P, dklen=KEY_BYTES)
