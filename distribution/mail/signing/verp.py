"""VERP: each delivery's own envelope sender, so a bounce names the delivery it is about.

`bounces+1234-k7q2m9xa@press.example.org`: the delivery id, then 40 bits of an HMAC of it
under the secret key (a forged or mistyped token matches nothing). Lower-case base32 only,
because relays may change the case of a local part. One HMAC a message, about a microsecond.
"""

from __future__ import annotations

import hmac
import re

from config import Settings

_SALT = b"pressroom.verp"
_SIGNATURE_BYTES = 5  # 40 bits: 8 base32 characters
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _key(secret: str) -> bytes:
    return hmac.digest(secret.encode("utf-8"), _SALT, "sha256")


def lower_base32(data: bytes) -> str:
    """base64.b32encode(data).lower() for whole groups of 5 bytes (no padding), without its
    pure-Python cost of several microseconds a message."""
    bits = int.from_bytes(data, "big")
    return "".join([_ALPHABET[(bits >> shift) & 31]
                    for shift in range(len(data) * 8 - 5, -1, -5)])


def _signature(key: bytes, delivery_id: int) -> str:
    """Lower-case base32 of the HMAC's first 40 bits."""
    digest = hmac.digest(key, b"%d" % delivery_id, "sha256")
    return lower_base32(digest[:_SIGNATURE_BYTES])


class Verp:
    """Envelope senders for one settings' bounce address; None when VERP is off."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = bool(settings.bounce_address)
        self._fallback = settings.envelope_sender
        local, _, domain = settings.bounce_address.rpartition("@")
        self._local, self._domain = local, domain.lower()
        self._key = _key(settings.secret_key)
        self._keys = [_key(k) for k in settings.verify_keys]
        self._pattern = re.compile(
            rf"{re.escape(local)}\+(\d{{1,18}})-([a-z2-7]{{8}})@{re.escape(self._domain)}",
            re.IGNORECASE)
        self._any = re.compile(rf"{re.escape(local)}\+[^@\s<>]*@{re.escape(self._domain)}",
                               re.IGNORECASE)

    def sender(self, delivery_id: int) -> str:
        """The envelope sender of one delivery (0: a copy with no delivery row)."""
        if not self.enabled:
            return self._fallback
        return f"{self._local}+{delivery_id}-{_signature(self._key, delivery_id)}@{self._domain}"

    def delivery_of(self, address: str) -> int | None:
        """The delivery a VERP address names, if its signature holds under any key."""
        found = self._pattern.fullmatch(address.strip().strip("<>"))
        if not found:
            return None
        delivery_id, signature = int(found.group(1)), found.group(2).lower()
        if any(hmac.compare_digest(_signature(key, delivery_id), signature)
               for key in self._keys):
            return delivery_id
        return None

    def find(self, text: str) -> int | None:
        """The first genuine VERP address anywhere in `text` (headers of a bounce)."""
        if not self.enabled:
            return None
        for match in self._pattern.finditer(text):
            found = self.delivery_of(match.group(0))
            if found is not None:
                return found
        return None

    def mentions(self, text: str) -> bool:
        """Whether `text` holds any address of the VERP form, genuine or not."""
        return self.enabled and self._any.search(text) is not None
