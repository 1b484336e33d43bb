"""Reading what a visitor submitted: size limits, clean text, addresses, languages, consent."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from distribution.audience.rows import Smtputf8Check, Unsendable, mailable_address
from distribution.locales import N_, translate
from distribution.web.language import current as page_language

MAX_BODY_BYTES = 16 * 1024  # our forms are a few short fields
MAX_FIELDS = 50

# Offered on the sign-up and preferences forms (the UN's official languages first).
LANGUAGES: dict[str, str] = {
    "en": "English", "fr": "Français", "es": "Español", "ar": "العربية",
    "ru": "Русский", "zh": "中文", "de": "Deutsch",
}

# The consent text shown next to the checkbox. Its version is what a Subscription records
# (consent_wording), so change CONSENT_VERSION whenever the text changes.
CONSENT_VERSION = "2025-06-v1"
# Shown in the page's language: each catalog's translation is this version's wording.
CONSENT_TEXT = N_(
    "I agree that %(org)s may send me press releases from the list “%(list)s” by email, and "
    "keeps a record of this consent (when, from which IP address, and this wording). I can "
    "unsubscribe at any time with the link in every email."
)

# What the preferences page says next to its list checkboxes, recorded the same way.
PREFERENCES_CONSENT_VERSION = "2025-06-prefs-v1"
PREFERENCES_CONSENT_TEXT = N_(
    "Ticking a list means you agree to receive its emails; we keep a record of this consent "
    "(when, from which IP address, and that you used this page). You can untick it at any "
    "time."
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Signup:
    email: str
    name: str | None
    language: str | None


async def read_form(request: Request) -> FormData:
    """The submitted fields; 413 for a body larger than any of our forms needs."""
    length = request.headers.get("content-length")
    if length is not None and (not (length.isascii() and length.isdigit())
                               or int(length) > MAX_BODY_BYTES):
        raise HTTPException(413, N_("That request is too large."))
    return await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_BODY_BYTES)


def field(form: FormData, name: str, limit: int = 200) -> str:
    """One text field, control characters removed, whitespace collapsed, cut to `limit`."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


def language(form: FormData) -> str | None:
    value = field(form, "language", 16)
    return value if value in LANGUAGES else None


def consent_text(org_name: str, list_name: str, language: str | None = None) -> str:
    return translate(language or page_language(), CONSENT_TEXT, org=org_name, list=list_name)


def read_signup(form: FormData,
                smtputf8: Smtputf8Check | None = None) -> tuple[Signup | None, dict[str, str]]:
    """The sign-up, or None with a message per field that needs fixing. An address with
    non-ASCII letters before the @ is taken if `smtputf8` finds that the transport carries
    it (which may ask the SMTP server: call from a thread)."""
    errors: dict[str, str] = {}
    email = ""
    try:
        email = mailable_address(field(form, "email", 320), smtputf8)
    except EmailNotValidError:
        errors["email"] = N_("Please enter a valid email address.")
    except Unsendable:
        # Why (the relay, its answer) is the office's business, not the visitor's.
        errors["email"] = N_("We cannot send email to an address with these letters before "
                             "the @ yet. Please use another address.")
    if form.get("consent") != "yes":
        errors["consent"] = N_("Please tick the box to agree to receive our emails.")
    if errors:
        return None, errors
    return Signup(email, field(form, "name") or None, language(form)), {}
