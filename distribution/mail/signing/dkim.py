"""DKIM signatures made in the application (RFC 6376), relaxed/relaxed, RSA-SHA256 and
optionally Ed25519-SHA256 beside it (RFC 8463).

Signing is the last step of building a message: the signature is a header put in front of
the bytes the stencil filled, so the data block for SMTP gets the same lines (a header
line never starts with a dot). Canonicalisation is written here, not dkimpy's: dkimpy
parses the whole message for every signature; tests pin this code to dkimpy's verifier
with arbitrary headers and bodies. The RSA operation itself (about a millisecond for a
2048-bit key) is most of the cost; everything else is hashing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from config import Settings
from distribution.errors import PressroomError

# The headers a signature covers, when the message has them: what a reader sees and trusts,
# and what a receiver acts on (the unsubscribe headers of RFC 8058 must be signed).
SIGNED = ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
          "Reply-To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version",
          "Content-Type", "Content-Transfer-Encoding", "Content-Language")
_SIGNED_LOWER = {name.lower() for name in SIGNED}
_WSP_RUN = re.compile(rb"[ \t]+")
_HEADER_START = re.compile(rb"\r\n(?![ \t])")
_LINE_BREAK = re.compile(rb"\r?\n")


class DkimError(PressroomError):
    """A DKIM key that cannot be used."""


@dataclass(frozen=True)
class _Key:
    algorithm: str  # "rsa-sha256" | "ed25519-sha256"
    private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    selector: str   # each key has its own record: one selector, one key type

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.private, rsa.RSAPrivateKey):
            return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.private.sign(hashlib.sha256(data).digest())


def load_key(path: str) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """A PEM private key from a file only its owner can read."""
    file = Path(path)
    try:
        mode = file.stat().st_mode
        if stat.S_IMODE(mode) & 0o077:
            raise DkimError(f"DKIM key {path} can be read by others (mode "
                            f"{stat.S_IMODE(mode):o}); run chmod 600 {path}")
        key = serialization.load_pem_private_key(file.read_bytes(), password=None)
    except OSError as exc:
        raise DkimError(f"cannot read the DKIM key {path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError):
        raise DkimError(f"{path} is not an unencrypted PEM private key") from None
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise DkimError(f"DKIM key {path} has {key.key_size} bits; use 2048 or more")
        return key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key
    raise DkimError(f"DKIM key {path} is neither RSA nor Ed25519")


def public_record(private: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    """The TXT record to publish at SELECTOR._domainkey.DOMAIN for this key."""
    public = private.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"
    der = public.public_bytes(serialization.Encoding.DER,
                              serialization.PublicFormat.SubjectPublicKeyInfo)
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


class DkimSigner:
    """Signs whole messages for one domain, with one key or two (each under its selector)."""

    def __init__(self, domain: str, selector: str, key: PrivateKey,
                 *more: tuple[str, PrivateKey]) -> None:
        self.domain = domain
        self._keys = [_Key("rsa-sha256" if isinstance(k, rsa.RSAPrivateKey)
                           else "ed25519-sha256", k, sel)
                      for sel, k in [(selector, key), *more]]

    def signature_lines(self, message: bytes, now: float | None = None) -> bytes:
        """The DKIM-Signature header lines to put in front of `message` (CRLF line ends)."""
        head, _, body = message.partition(b"\r\n\r\n")
        headers = _signed_headers(head + b"\r\n")
        names = b":".join(name for name, _ in headers)
        canonical = b"".join(_relaxed_header(name, value) + b"\r\n" for name, value in headers)
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest()).decode()
        stamp = int(now if now is not None else time.time())
        lines = []
        # Ed25519 first, then RSA: receivers that know only RSA read the last one too.
        for key in sorted(self._keys, key=lambda k: k.algorithm != "ed25519-sha256"):
            value = (f"v=1; a={key.algorithm}; c=relaxed/relaxed; d={self.domain}; "
                     f"s={key.selector}; t={stamp}; h={names.decode('ascii')}; "
                     f"bh={body_hash}; b=")
            unsigned = _relaxed_header(b"dkim-signature", value.encode("ascii"))
            signature = base64.b64encode(key.sign(canonical + unsigned)).decode("ascii")
            lines.append(_folded(value, signature))
        return b"".join(lines)

    def sign(self, message: bytes, now: float | None = None) -> bytes:
        return self.signature_lines(message, now) + message


def _signed_headers(head: bytes) -> list[tuple[bytes, bytes]]:
    """(lower-case name, raw value) of the headers to sign, bottom-up per name (RFC 6376
    5.4.2: several of one name are signed from the last), in SIGNED's order."""
    found: dict[bytes, list[bytes]] = {}
    for field in _HEADER_START.split(head.rstrip(b"\r\n")):
        name, colon, value = field.partition(b":")
        key = name.strip().lower()
        if colon and key.decode("latin-1") in _SIGNED_LOWER:
            found.setdefault(key, []).append(value)
    return [(name, value) for name in (n.lower().encode() for n in SIGNED)
            for value in reversed(found.get(name, []))]


def _relaxed_header(name: bytes, value: bytes) -> bytes:
    value = _WSP_RUN.sub(b" ", _LINE_BREAK.sub(b"", value)).strip()
    return name.lower().rstrip() + b":" + value


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: no white space at line ends, other runs one space, exactly one line
    end at the end (none for an empty body).

    Line by line through a cache: the messages of a batch share all their lines but the
    few with a recipient's links, and running the regular expressions over every
    message's whole body cost as much as the RSA signature (about 1 ms for 7.5 kB).
    """
    lines = body.split(b"\r\n")
    cache = _LINES
    if len(cache) > _LINES_KEEP:
        cache.clear()
    canonical = [cache.get(line) or _line(line) for line in lines[:-1]]
    # The last piece has no line end: dkimpy, whose verdict counts, leaves its end alone.
    canonical.append(_WSP_RUN.sub(b" ", lines[-1]))
    body = b"\r\n".join(canonical)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    while body.endswith(b"\r\n\r\n"):
        body = body[:-2]
    return b"" if body == b"\r\n" else body


_LINES: dict[bytes, bytes] = {}
_LINES_KEEP = 50_000


def _line(line: bytes) -> bytes:
    canonical = _WSP_RUN.sub(b" ", line).rstrip(b" \t")
    _LINES[line] = canonical
    return canonical


def _folded(value: str, signature: str) -> bytes:
    """The header folded between tags and inside b= (where white space is ignored): short
    lines, and the same relaxed form as the unfolded value that was signed."""
    tags = value.split("; ")
    lines, current = [], "DKIM-Signature:"
    for index, tag in enumerate(tags):
        piece = f" {tag}" + (";" if index < len(tags) - 1 else "")
        if len(current) + len(piece) > 76 and current != "DKIM-Signature:":
            lines.append(current)
            current = "\t" + piece.lstrip()
        else:
            current += piece
    lines.append(current)
    lines += ["\t" + signature[i:i + 72] for i in range(0, len(signature), 72)]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


@lru_cache(maxsize=4)
def signer_for(domain: str, selector: str, rsa_file: str, ed25519_selector: str,
               ed25519_file: str) -> DkimSigner:
    """One signer per configuration and process: the key files are read once."""
    key = load_key(rsa_file)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimError(f"dkim_private_key_file {rsa_file} must be an RSA key")
    if not ed25519_file:
        return DkimSigner(domain, selector, key)
    extra = load_key(ed25519_file)
    if not isinstance(extra, ed25519.Ed25519PrivateKey):
        raise DkimError(f"dkim_ed25519_key_file {ed25519_file} must be an Ed25519 key")
    return DkimSigner(domain, selector, key, (ed25519_selector, extra))


def configured_signer(settings: Settings) -> DkimSigner | None:
    if not settings.dkim_private_key_file:
        return None
    return signer_for(settings.dkim_domain, settings.dkim_selector,
                      settings.dkim_private_key_file, settings.dkim_ed25519_selector,
                      settings.dkim_ed25519_key_file)


def signed(settings: Settings, message: bytes) -> bytes:
    """The message signed when DKIM is configured, else as it is."""
    signer = configured_signer(settings)
    return signer.sign(message) if signer else message
