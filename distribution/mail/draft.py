"""Everything a message says except who it is for: the templates' context and fixed headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jinja2

from config import Settings
from distribution import locales
from distribution.locales import dates, template_callables
from distribution.mail import headers as h
from distribution.mail.media import NO_MEDIA, InlineImage, MessageMedia
from distribution.mail.notes import localized_note
from distribution.mail.templates import inline_css
from distribution.mail.view import ReleaseView, organisation, release_view
from distribution.releases.bodyformat import read_blocks
from distribution.store.models import Release
from distribution.times import TimeError

# Messages that are the release itself (a test send is one too), not a notice about it.
RELEASE_MESSAGE_KINDS = frozenset({"release", "test"})
NOTICE_KINDS = frozenset({"notice_moved", "notice_lifted", "notice_withdrawn", "correction"})
# A lifted or withdrawn notice never carries an embargo line: it would contradict it.
UNMARKED_KINDS = frozenset({"notice_lifted", "notice_withdrawn"})


@dataclass(frozen=True)
class Draft:
    templates: jinja2.Environment
    family: str  # "release" or "notice": release.*.j2 or notice.*.j2
    context: Mapping[str, Any]
    headers: Mapping[str, object]  # every header that is the same for all recipients
    embargo: tuple[datetime, str] | None  # (lift in UTC, zone it was given in) when marked
    inline: tuple[InlineImage, ...] = ()  # photos embedded as related parts
    language: str = "en"  # of the version: its catalog and its way of writing dates

    def embargo_line(self, recipient_zone: str | None) -> str | None:
        if self.embargo is None:
            return None
        utc, zone = self.embargo
        if recipient_zone and recipient_zone != zone:
            try:
                return dates.embargo_line(utc, zone, self.language, recipient_zone)
            except TimeError:
                pass  # a zone we cannot read on a contact: show the release's own line
        return dates.embargo_line(utc, zone, self.language)

    def render(self, embargo: str | None, links: Mapping[str, str]) -> tuple[str, str, str]:
        """Subject, plain text and HTML (CSS inlined) for one embargo line and link set."""
        short = (dates.embargo_short(*self.embargo, self.language)
                 if embargo and self.embargo else None)
        context = {**self.context, **template_callables(self.language), **links,
                   "embargo_line": embargo, "embargo_short": short}
        subject = h.clean_header_value(self._template("subject").render(context))
        text = self._template("txt").render(context)
        html = inline_css(self._template("html").render({**context, "subject": subject}))
        return subject, text, html

    def _template(self, part: str) -> jinja2.Template:
        return self.templates.get_template(f"{self.family}.{part}.j2")


def draft_for(release: Release, settings: Settings, templates: jinja2.Environment, *,
              marked: bool, list_name: str | None, kind: str, note: str | None,
              media: MessageMedia = NO_MEDIA, list_title: str | None = None,
              notice_language: str | None = None) -> Draft:
    """`list_name` is the list's slug (List-Id's machine id); the footer and List-Id's
    phrase show its `list_title` when it has one. `notice_language`: a notice's own words
    (and the footer) in the reader's language when the text it carries is in another (a
    correction of the original sent to a reader of a version that has none); the text
    keeps its language's fixed strings."""
    if kind not in RELEASE_MESSAGE_KINDS | NOTICE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    view = release_view(release, settings)
    language = (notice_language or view.language) if kind in NOTICE_KINDS else view.language
    # Notices say what changed; the photos and the online copy go with the release.
    shown = media if kind not in NOTICE_KINDS or kind == "correction" else NO_MEDIA
    context = {
        "kind": kind,
        "release": view,
        "language": language,  # of the message: its <html lang>, dir and fixed strings
        "direction": locales.direction(language),
        "text_i18n": template_callables(view.language),  # the release text's own strings
        "org": organisation(settings),
        "note": read_blocks(localized_note(kind, note, release, language)),
        "list_name": list_title or list_name,  # what the footer shows
        "media": shown,
    }
    return Draft(
        templates=templates,
        family="release" if kind in RELEASE_MESSAGE_KINDS else "notice",
        context=context,
        headers=_fixed_headers(view, settings, list_name, list_title, language),
        embargo=_embargo(release, marked and kind not in UNMARKED_KINDS),
        inline=shown.inline,
        language=language,
    )


def _embargo(release: Release, marked: bool) -> tuple[datetime, str] | None:
    # Marking needs a lift time: a release without one is never called embargoed.
    if not marked or release.embargo_until is None:
        return None
    return release.embargo_until, release.embargo_zone or "UTC"


def _fixed_headers(view: ReleaseView, settings: Settings, list_name: str | None,
                   list_title: str | None, language: str) -> dict[str, object]:
    # A notice in the reader's language carrying a text in another names both.
    languages = language if language == view.language else f"{language}, {view.language}"
    fixed: dict[str, object] = {
        "From": h.mailbox("From", *h.parse_mailbox(settings.from_addr)),
        "Reply-To": view.reply_to,
        "MIME-Version": "1.0",
        "Content-Language": h.text("Content-Language", languages),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "bulk",
    }
    if list_name:
        domain = settings.list_id_domain or settings.sender_domain
        fixed["List-Id"] = h.list_id(f"{settings.org_name} – {list_title or list_name}",
                                     list_name, domain)
    return fixed
