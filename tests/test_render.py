"""The renderer: templates, headers and the fast personalise path, with no database."""

from __future__ import annotations

import email
import email.policy
import functools
import re
import tempfile
from datetime import UTC, date, datetime
from email import quoprimime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from config import ConfigError
from distribution.mail.headers import POLICY, clean_header_value
from distribution.mail.render import (
    PreparedMessage,
    Recipient,
    load_templates,
    prepare,
    render,
)
from distribution.mail.stencil import qp_line
from distribution.smtpdata import data_block
from distribution.store.models import Release
from tests.fixtures.reference import compose
from tests.fixtures.settings import make_settings

NOW = datetime(2025, 4, 15, 8, 0, tzinfo=UTC)
LIFT = datetime(2025, 4, 16, 7, 0, tzinfo=UTC)  # 09:00 CEST
EMBARGO_LINE = "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2025 (07:00 UTC)"
EMBARGO_SHORT = "EMBARGOED 09:00 CEST 16 Apr"
HEADLINE = ("IIIM Head Concludes his visit to Damascus: Reaffirms Commitment to Supporting "
            "Syria’s Transitional Justice Efforts")
# Sample 01 as the parser leaves it: the dateline taken off the first paragraph.
BODY = "\n\n".join([
    "Assistant Secretary-General Robert Petit, leading a delegation from the Independent "
    "International Impartial Mechanism (IIIM), concluded a series of high-level meetings during "
    "his second visit to Damascus, including a meeting with the Foreign Minister Asaad Al "
    "Shaibani and officials from the Ministry of Foreign Affairs and Expatriates of the Syrian "
    "Arab Republic.",
    "The meetings focused on advancing practical avenues for cooperation in support of "
    "accountability and transitional justice. Both parties underscored the importance of a "
    "Syrian-led process that is inclusive, effective and responsive to the needs of victims and "
    "affected communities.",
    "ASG Petit welcomed the Minister’s expression of commitment to cooperation as part of "
    "broader transitional justice efforts.",
    "“It was a constructive meeting, and I appreciated the Minister’s engagement with our "
    "mandate,” said ASG Petit. “Syria continues to face many challenges, and the IIIM stands "
    "ready to provide practical support on the ground that aligns with the needs of Syrians.”",
    "In addition to meetings with officials, ASG Petit met with a number of Syrian civil "
    "society organisations and activists to hear directly from those working with victims and "
    "survivors advocating for justice. These exchanges reinforced the importance of a "
    "broad-based and inclusive approach to transitional justice, which provides space for the "
    "voices and experiences of Syria’s diverse communities.",
    "This visit was the latest in regular engagements the IIIM has had with the Syrian Ministry "
    "of Foreign Affairs since the fall of the regime in December 2024.",
    "The IIIM remains committed to fulfilling its mandate to assist in the investigation and "
    "prosecution of serious crimes, to facilitating constructive dialogue and to contributing "
    "to efforts that advance justice and accountability for all Syrians.",
])
BOILERPLATE = "\n\n".join([
    "The International, Impartial and Independent Mechanism (IIIM) is a United Nations "
    "organisation, established in 2016 by the UN General Assembly in a landmark vote.",
    "It is not a court or tribunal; it cannot issue indictments or conduct trials and does not "
    "have prosecutorial powers.",
    "The IIIM is:",
    "- Independent: Works without external instructions or influences.\n"
    "- Impartial: Works to cover all international crimes committed by all parties in the "
    "conflict, no matter the affiliation, without bias.\n"
    "- Rigorous: Applies international criminal law methodologies throughout all tracks of its "
    "work.",
])
ORG_NAME = "International, Impartial and Independent Mechanism"
ORG_ADDRESS = "Palais des Nations, 1211 Geneva 10, Switzerland"


def sample_release(**changes: object) -> Release:
    fields: dict[str, object] = dict(
        headline=HEADLINE, subheadline=None, language="en", dateline_place="Damascus",
        dateline_date=date(2025, 4, 16), dateline_text="Damascus, April 16, 2025", body=BODY,
        end_marker="-ENDS-", media_contacts=[], boilerplate_heading="About the IIIM",
        boilerplate=BOILERPLATE, embargo_until=None, embargo_zone=None)
    fields.update(changes)
    return Release(**fields)


def embargoed(**changes: object) -> Release:
    return sample_release(embargo_until=LIFT, embargo_zone="Europe/Zurich", **changes)


def recipient(n: int = 1, **changes: object) -> Recipient:
    fields: dict[str, object] = dict(
        email=f"journalist{n}@news.example.com", name=f"Jane Reporter {n}", timezone=None,
        message_id=f"<pressroom.7.{n}@iiim.example.org>",
        unsubscribe_url=f"https://press.iiim.example.org/u/tok{n}.Zm9vYmFy-_x",
        preferences_url=f"https://press.iiim.example.org/preferences/tok{n}",
        unsubscribe_mailto=f"mailto:unsubscribe@iiim.example.org?subject=unsubscribe-tok{n}")
    fields.update(changes)
    return Recipient(**fields)  # type: ignore[arg-type]


@pytest.fixture
def settings(tmp_path):
    """Rendering needs no database: this overrides the store-backed fixture."""
    return make_settings(tmp_path, "sqlite://")


@pytest.fixture
def templates(settings):
    return load_templates(settings)


def make(settings, templates, release: Release | None = None, who: Recipient | None = None,
         **options: object) -> bytes:
    options.setdefault("marked", False)
    options.setdefault("list_name", "media")
    return render(release or sample_release(), who or recipient(), templates, settings,
                  date=NOW, **options)  # type: ignore[arg-type]


def parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def bodies(data: bytes) -> tuple[str, ...]:
    text_part, html_part = parse(data).iter_parts()
    # Decoded quoted-printable keeps the CRLF line ends of the wire format.
    return tuple(p.get_content().replace("\r\n", "\n") for p in (text_part, html_part))


def flat(text: str) -> str:
    return " ".join(text.split())


# --- the sample release ----------------------------------------------------------------------

def test_a_release_is_multipart_alternative_with_text_before_html(settings, templates):
    message = parse(make(settings, templates))
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert all(p["Content-Transfer-Encoding"] == "quoted-printable" for p in parts)


@pytest.mark.parametrize("part", ["text", "html"])
def test_both_parts_carry_the_whole_release(settings, templates, part):
    text, html = bodies(make(settings, templates))
    content = flat(text if part == "text" else re.sub(r"<[^>]+>", " ", html))
    assert HEADLINE in content
    assert "Damascus, April 16, 2025 – Assistant Secretary-General Robert Petit" in content
    for paragraph in BODY.split("\n\n") + BOILERPLATE.split("\n\n")[:2]:
        assert paragraph in content
    assert "For media inquiries please contact:" in content
    assert "About the IIIM" in content
    assert ORG_NAME in content and ORG_ADDRESS in content
    assert "https://press.iiim.example.org/u/tok1.Zm9vYmFy-_x" in (text if part == "text"
                                                                   else html)
    assert "https://press.iiim.example.org/preferences/tok1" in (text if part == "text" else html)


def test_end_marker_stands_on_its_own_line(settings, templates):
    text, html = bodies(make(settings, templates))
    assert "-ENDS-" in text.splitlines()
    assert re.search(r"<p[^>]*>-ENDS-</p>", html)


def test_a_release_without_an_end_marker_gets_the_default(settings, templates):
    text, _ = bodies(make(settings, templates, sample_release(end_marker=None)))
    assert "-ENDS-" in text.splitlines()


def test_the_releases_own_end_marker_is_kept(settings, templates):
    text, _ = bodies(make(settings, templates, sample_release(end_marker="###")))
    assert "###" in text.splitlines() and "-ENDS-" not in text


def test_bullets_become_a_list(settings, templates):
    text, html = bodies(make(settings, templates))
    assert ("\n- Impartial: Works to cover all international crimes committed by all\n"
            "  parties in the conflict") in text
    assert re.search(r"<ul[^>]*>\s*<li[^>]*>Independent: Works without external", html)


def test_quotes_are_paragraphs(settings, templates):
    _, html = bodies(make(settings, templates))
    assert re.search(r"<p[^>]*>“It was a constructive meeting", html)


def test_plain_text_is_wrapped_but_urls_are_never_broken(settings, templates):
    url = "https://iiim.un.org/news/a-very-long-path/" + "segment-" * 12 + "end?x=1&y=2"
    release = sample_release(body=f"Read the full article at {url} today.\n\n" + BODY)
    text, html = bodies(make(settings, templates, release))
    assert url in text.splitlines()[text.splitlines().index(url)]
    assert all(len(line) <= 72 for line in text.splitlines() if "://" not in line)
    assert f'<a href="{url.replace("&", "&amp;")}"' in html


def test_media_contacts_of_the_release_are_shown_and_the_first_is_reply_to(settings, templates):
    contacts = [{"name": "Press Desk", "email": None, "phone": "+41 22 917 00 00"},
                {"name": "Ana Ruiz", "email": "ruiz@iiim.example.org", "phone": None}]
    data = make(settings, templates, sample_release(media_contacts=contacts))
    text, html = bodies(data)
    assert "Press Desk, +41 22 917 00 00" in text
    assert "Ana Ruiz, ruiz@iiim.example.org" in text
    assert '<a href="mailto:ruiz@iiim.example.org"' in html
    assert "media@iiim.example.org" not in text  # the organisation's default is not needed
    assert parse(data)["Reply-To"].addresses[0].addr_spec == "ruiz@iiim.example.org"


def test_without_contacts_the_organisations_contact_is_shown_and_replied_to(settings, templates):
    data = make(settings, templates)
    text, _ = bodies(data)
    assert "For media inquiries please contact:\nIIIM Media Office, media@iiim.example.org" in text
    assert str(parse(data)["Reply-To"]) == "IIIM Media Office <media@iiim.example.org>"


def test_reply_to_falls_back_to_the_organisation_when_no_contact_has_an_email(settings,
                                                                             templates):
    release = sample_release(media_contacts=[{"name": "Press Desk", "phone": "+41 22 917 00 00"}])
    data = make(settings, templates, release)
    assert str(parse(data)["Reply-To"]) == "IIIM Media Office <media@iiim.example.org>"
    assert "Press Desk, +41 22 917 00 00" in bodies(data)[0]


def test_without_any_contact_address_there_is_no_reply_to(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", org_contact="")
    data = make(settings, load_templates(settings))
    assert parse(data)["Reply-To"] is None
    assert "For media inquiries" not in bodies(data)[0]


def test_the_organisations_boilerplate_fills_in(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", org_boilerplate_heading="About us",
                             org_boilerplate="We investigate.")
    release = sample_release(boilerplate=None, boilerplate_heading=None)
    text, html = bodies(make(settings, load_templates(settings), release))
    assert "About us\n\nWe investigate." in text and "About the IIIM" not in text
    assert re.search(r"<h2[^>]*>About us</h2>", html)


# --- headers ---------------------------------------------------------------------------------

def test_headers_are_present_and_well_formed(settings, templates):
    data = make(settings, templates)
    message = parse(data)
    assert str(message["From"]) == "IIIM Press Office <press@iiim.example.org>"
    assert str(message["To"]) == "Jane Reporter 1 <journalist1@news.example.com>"
    assert message["Subject"] == HEADLINE
    assert message["Date"].datetime == NOW
    assert message["Message-ID"] == "<pressroom.7.1@iiim.example.org>"
    assert message["Message-ID"].endswith("@" + settings.sender_domain + ">")
    assert message["MIME-Version"] == "1.0"
    assert message["Precedence"] == "bulk"
    assert message["Content-Language"] == "en"
    assert "Auto-Submitted" not in message
    assert str(message["List-Id"]) == f"{ORG_NAME} – media <media.iiim.example.org>"
    assert str(message["List-Unsubscribe"]) == (
        "<https://press.iiim.example.org/u/tok1.Zm9vYmFy-_x>, "
        "<mailto:unsubscribe@iiim.example.org?subject=unsubscribe-tok1>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not message.defects and all(not p.defects for p in message.iter_parts())


def test_the_bytes_are_ascii_crlf_and_within_line_limits(settings, templates):
    data = make(settings, templates, embargoed(), recipient(name="Zoë Ämmänen"), marked=True)
    assert data.isascii()
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.split(b"\r\n")
    head, body = lines[:lines.index(b"")], lines[lines.index(b""):]
    assert all(len(line) <= 998 for line in head)
    assert all(len(line) <= 76 for line in body)  # RFC 2045 quoted-printable


def test_list_unsubscribe_urls_are_never_encoded_words(settings, templates):
    long_token = "t" * 150
    who = recipient(unsubscribe_url=f"https://press.iiim.example.org/u/{long_token}")
    data = make(settings, templates, who=who)
    raw = data.split(b"\r\n\r\n", 1)[0].decode()
    assert f"<https://press.iiim.example.org/u/{long_token}>" in raw
    assert "=?" not in raw.split("List-Unsubscribe:", 1)[1].split("\r\nList-Unsub")[0]


def test_list_id_falls_back_to_the_sender_domain_and_is_left_out_without_a_list(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", list_id_domain="lists.example.net")
    templates = load_templates(settings)
    assert "<media-trusted.lists.example.net>" in str(
        parse(make(settings, templates, list_name="Media (trusted)"))["List-Id"])
    assert parse(make(settings, templates, list_name=None))["List-Id"] is None


@pytest.mark.parametrize("hostile, expected", [
    ("Hello\r\nBcc: victim@x", "Hello Bcc: victim@x"),
    ("\x00\x1b", ""),
    ("A\u2028B\u2029C\x85D\x0bE\x0cF", "A B C D E F"),
    ("tab\there  and   spaces ", "tab here and spaces"),
    ("bidi \u202eevil\u202c name", "bidi evil name"),
    ("Zoë Ämmänen", "Zoë Ämmänen"),
])
def test_clean_header_value_keeps_one_line_without_control_characters(hostile, expected):
    assert clean_header_value(hostile) == expected


def test_hostile_values_cannot_add_headers(settings, templates):
    release = sample_release(headline="Hello\r\nBcc: victim@x\r\n\r\nInjected body")
    who = recipient(name="Evil\r\nBcc: victim@x\x00\x1b",
                    unsubscribe_url="https://press.iiim.example.org/u/a\r\nBcc: victim@x")
    data = make(settings, templates, release, who)
    message = parse(data)
    assert message["Bcc"] is None and "\r\nBcc:" not in data.decode()
    assert message["Subject"] == "Hello Bcc: victim@x Injected body"
    assert message["To"].addresses[0].display_name == "Evil Bcc: victim@x"
    assert message["To"].addresses[0].addr_spec == "journalist1@news.example.com"
    assert "<https://press.iiim.example.org/u/a%20Bcc:%20victim@x>" in str(
        message["List-Unsubscribe"])


def test_a_malformed_recipient_address_or_message_id_is_refused(settings, templates):
    with pytest.raises(ValueError):
        make(settings, templates, who=recipient(email="victim@x\r\nBcc: other@y"))
    with pytest.raises(ValueError):
        make(settings, templates, who=recipient(message_id="no-brackets@x"))


def test_non_ascii_headlines_and_names_are_rfc2047_encoded(settings, templates):
    release = sample_release(headline="Mécanisme : visite à Damas – déclaration")
    data = make(settings, templates, release, recipient(name="Zoë Ämmänen-Łukasiewicz"))
    head = data.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head
    message = parse(data)
    assert message["Subject"] == "Mécanisme : visite à Damas – déclaration"
    assert message["To"].addresses[0].display_name == "Zoë Ämmänen-Łukasiewicz"


def test_the_date_must_be_aware(settings, templates):
    prepared = prepare(sample_release(), settings, templates, marked=False)
    with pytest.raises(ValueError):
        prepared.personalise(recipient(), date=datetime(2025, 4, 15, 8, 0))


# --- HTML ------------------------------------------------------------------------------------

def test_html_escapes_markup_from_the_release(settings, templates):
    release = sample_release(headline="<script>alert(1)</script> & co",
                             body="Body <script>x()</script> text.")
    _, html = bodies(make(settings, templates, release))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "Body &lt;script&gt;x()&lt;/script&gt; text." in html


def test_html_has_its_styles_inlined_in_one_narrow_column(settings, templates):
    _, html = bodies(make(settings, templates))
    assert "<style" not in html
    # A centred table column: max-width for most clients, a fixed 640 px table for
    # Outlook's Word engine, which ignores max-width and auto margins.
    assert re.search(r'<table class="column"[^>]*style="[^"]*max-width: 640px', html)
    assert '<!--[if mso]><table role="presentation" width="640"' in html
    assert re.search(r'<td class="outer-cell"[^>]* align="center"', html)
    assert re.search(r'<h1 style="[^"]*font-size', html)
    assert '<meta name="viewport"' in html


def test_a_right_to_left_release_is_marked_rtl(settings, templates):
    _, html = bodies(make(settings, templates, sample_release(language="ar")))
    assert '<html lang="ar" dir="rtl">' in html


# --- embargo ---------------------------------------------------------------------------------

def test_a_marked_copy_carries_the_embargo_in_subject_banner_and_text(settings, templates):
    data = make(settings, templates, embargoed(), marked=True)
    text, html = bodies(data)
    assert parse(data)["Subject"] == f"{EMBARGO_SHORT}: {HEADLINE}"
    assert text.splitlines()[0] == EMBARGO_LINE
    assert re.search(rf'<div class="banner"[^>]*>{re.escape(EMBARGO_LINE)}</div>', html)


def test_an_unmarked_copy_of_an_embargoed_release_has_no_embargo_line(settings, templates):
    data = make(settings, templates, embargoed(), marked=False)
    assert "EMBARGO" not in parse(data)["Subject"]
    assert all("EMBARGO" not in part for part in bodies(data))


@pytest.mark.parametrize("marked", [False, True])
def test_a_release_without_an_embargo_never_says_embargo(settings, templates, marked):
    data = make(settings, templates, marked=marked)
    assert b"EMBARGO" not in data.upper()
    assert "EMBARGO" not in parse(data)["Subject"].upper()


def test_a_recipient_in_another_zone_gets_their_own_time_too(settings, templates):
    prepared = prepare(embargoed(), settings, templates, marked=True, list_name="media")
    theirs = "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2025 " \
             "(07:00 UTC; 03:00 EDT, 16 April 2025 in America/New_York)"
    for zone, line in [("America/New_York", theirs), ("Europe/Zurich", EMBARGO_LINE),
                       (None, EMBARGO_LINE), ("Not/AZone", EMBARGO_LINE)]:
        data = prepared.personalise(recipient(timezone=zone), date=NOW)
        text, html = bodies(data)
        assert parse(data)["Subject"] == f"{EMBARGO_SHORT}: {HEADLINE}", zone
        assert flat(text).startswith(line) and f">{line}</div>" in html


# --- notices and corrections -----------------------------------------------------------------

def test_a_moved_notice_gives_the_new_embargo(settings, templates):
    data = make(settings, templates, embargoed(), kind="notice_moved", marked=True,
                note="The visit was postponed by a day.")
    text, html = bodies(data)
    assert parse(data)["Subject"] == f"EMBARGO MOVED: {EMBARGO_SHORT}: {HEADLINE}"
    assert EMBARGO_LINE in text and "has been moved" in flat(text)
    assert "The visit was postponed by a day." in text and "-ENDS-" not in text
    assert f">{EMBARGO_LINE}</div>" in html


def test_a_lifted_notice_says_it_may_be_published_and_carries_no_embargo(settings, templates):
    data = make(settings, templates, embargoed(), kind="notice_lifted", marked=True)
    text, _ = bodies(data)
    assert parse(data)["Subject"] == f"EMBARGO LIFTED: {HEADLINE}"
    assert "It may be published now." in flat(text) and "STRICTLY" not in text


def test_a_withdrawn_notice_says_do_not_publish(settings, templates):
    data = make(settings, templates, embargoed(), kind="notice_withdrawn", marked=False,
                note="It contained an error.")
    text, html = bodies(data)
    assert parse(data)["Subject"] == f"WITHDRAWN – DO NOT PUBLISH: {HEADLINE}"
    assert HEADLINE in parse(data)["Subject"]
    assert "DO NOT PUBLISH: the release is withdrawn" in text
    assert "DO NOT PUBLISH: the release is withdrawn" in html
    assert "It contained an error." in text and "-ENDS-" not in text


@pytest.mark.parametrize("kind", ["notice_moved", "notice_lifted", "notice_withdrawn",
                                  "correction"])
def test_notices_escape_the_headline_in_html(settings, templates, kind):
    data = make(settings, templates, embargoed(headline="Tom & Jerry <script>x</script>"),
                kind=kind, marked=False)
    _, html = bodies(data)
    assert "<script>" not in html
    assert "Tom &amp; Jerry &lt;script&gt;" in html


@pytest.mark.parametrize("marked", [False, True])
def test_a_correction_says_so_and_carries_the_full_corrected_release(settings, templates,
                                                                     marked):
    data = make(settings, templates, embargoed(), kind="correction", marked=marked,
                note="The date of the visit was wrong.")
    text, html = bodies(data)
    subject = parse(data)["Subject"]
    assert HEADLINE in subject
    assert subject.startswith("CORRECTION: ")
    assert (EMBARGO_SHORT in subject) == marked
    assert "CORRECTION:" in text and "CORRECTION:" in html
    assert "The date of the visit was wrong." in text
    assert HEADLINE in flat(text) and BODY.split("\n\n")[-1] in flat(text)
    assert "-ENDS-" in text.splitlines() and "For media inquiries please contact:" in text


def test_an_unknown_kind_is_refused(settings, templates):
    with pytest.raises(ValueError):
        make(settings, templates, kind="newsletter")


# --- templates -------------------------------------------------------------------------------

def test_a_sites_templates_override_the_shipped_ones(tmp_path):
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "release.subject.j2").write_text("[IIIM] {{ release.headline }}", "utf-8")
    (folder / "_footer.txt.j2").write_text(
        "\nOur own footer\n{{ unsubscribe_url }}\n", "utf-8")
    settings = make_settings(tmp_path, "sqlite://", templates_dir=str(folder))
    data = make(settings, load_templates(settings))
    text, html = bodies(data)
    assert parse(data)["Subject"] == f"[IIIM] {HEADLINE}"
    assert text.endswith("Our own footer\nhttps://press.iiim.example.org/u/tok1.Zm9vYmFy-_x\n")
    assert "Manage your subscription" in html  # not overridden: the shipped template


def test_a_missing_templates_dir_is_a_configuration_error(tmp_path):
    settings = make_settings(tmp_path, "sqlite://", templates_dir=str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError):
        load_templates(settings)


# --- the fast path ---------------------------------------------------------------------------

RECIPIENTS = [
    recipient(1),
    recipient(2, name=None, timezone="America/New_York"),
    recipient(3, name="Zoë Ämmänen-Łukasiewicz", timezone="Asia/Kolkata"),
    recipient(4, name='Doe, Jane "JD"', unsubscribe_url="https://press.iiim.example.org/u/a?b=1&c=2"),
    recipient(5, name="Hello\r\nBcc: victim@x", message_id="<x.5@iiim.example.org>"),
    recipient(6, name="A name long enough to need folding, because it goes on well past the "
                      "seventy-eight columns of one header line", timezone="Bogus/Zone"),
    recipient(7, unsubscribe_url="https://press.iiim.example.org/u/" + "=" * 90),
]


@pytest.mark.parametrize("kind", ["release", "notice_moved", "notice_withdrawn", "correction"])
def test_personalise_equals_a_message_built_in_full_for_each_recipient(settings, templates,
                                                                         kind):
    release = embargoed(subheadline="Ä subheadline <b>", media_contacts=[
        {"name": "Ana Ruiz", "email": "ruiz@iiim.example.org", "phone": "+41 22 917 00 00"}])
    options = dict(marked=True, list_name="media", kind=kind, note="A note.")
    prepared = prepare(release, settings, templates, **options)
    for who in RECIPIENTS:
        fast = prepared.personalise(who, date=NOW)
        slow = compose(release, who, templates, settings, date=NOW, **options).as_bytes(
            policy=POLICY)
        fast_message, slow_message = parse(fast), parse(slow)
        assert _headers(fast_message) == _headers(slow_message)
        assert [p.get_content() for p in fast_message.iter_parts()] == [
            p.get_content() for p in slow_message.iter_parts()]
        # Stronger still: the same bytes, once the random MIME boundary is set aside.
        assert _without_boundary(fast) == _without_boundary(slow), who


def test_render_is_prepare_then_personalise(settings, templates):
    release, who = embargoed(), recipient(3, timezone="Asia/Kolkata")
    once = render(release, who, templates, settings, marked=True, list_name="media", date=NOW)
    prepared = prepare(release, settings, templates, marked=True, list_name="media")
    assert _without_boundary(once) == _without_boundary(prepared.personalise(who, date=NOW))


@given(st.text(alphabet=st.sampled_from("ab= \t.é’x?&<>\"\x0b\x85"), max_size=320))
def test_a_body_line_is_quoted_printable_exactly_as_the_email_package_writes_it(line):
    expected = quoprimime.body_encode(line.encode("utf-8").decode("latin-1"),
                                      POLICY.max_line_length, "\r\n")
    assert qp_line(line) == expected.encode("ascii") + b"\r\n"


def _headers(message: EmailMessage) -> list[tuple[str, str]]:
    # Parsed and decoded; Content-Type differs only by the random boundary.
    return [(name, str(value)) for name, value in message.items() if name != "Content-Type"]


def _without_boundary(data: bytes) -> bytes:
    boundary = re.search(rb'boundary="([^"]+)"', data)
    assert boundary is not None
    return data.replace(boundary.group(1), b"BOUNDARY")


def test_a_site_template_that_mangles_a_link_is_refused(tmp_path):
    folder = tmp_path / "site-templates"
    folder.mkdir()
    (folder / "_footer.txt.j2").write_text("\n{{ unsubscribe_url | lower }}\n", "utf-8")
    settings = make_settings(tmp_path, "sqlite://", templates_dir=str(folder))
    with pytest.raises(ValueError, match="per-recipient link"):
        make(settings, load_templates(settings))


# --- the message as SMTP sends it ------------------------------------------------------------

DOTTY_BODY = ".NET and ...\n\n. a line that starts with a dot\n\n" + "word." * 60


@functools.cache
def _prepared_for_smtp(dotty: bool) -> PreparedMessage:
    settings = make_settings(Path(tempfile.mkdtemp()), "sqlite://")
    release = sample_release(body=DOTTY_BODY) if dotty else sample_release()
    return prepare(release, settings, load_templates(settings), marked=False,
                   list_name="media")


@given(dotty=st.booleans(),
       name=st.text(alphabet=st.sampled_from(".aé \t'\""), max_size=40),
       path=st.text(alphabet=st.sampled_from(".-_aZ9="), min_size=1, max_size=200))
@example(dotty=False, name="", path="." * 200)
@example(dotty=True, name=".", path="ab." * 60)
def test_the_smtp_data_block_is_the_message_dot_stuffed(dotty, name, path):
    # Dots in the links land at the start of quoted-printable lines, wherever they wrap.
    who = recipient(name=name, unsubscribe_url=f"https://press.iiim.example.org/u/{path}",
                    preferences_url=f"https://press.iiim.example.org/p/.{path}")
    prepared = _prepared_for_smtp(dotty)
    block = prepared.personalise_for_smtp(who, date=NOW)
    assert block == data_block(prepared.personalise(who, date=NOW))


@pytest.mark.parametrize("kind", ["release", "notice_moved", "correction"])
def test_every_message_passes_strict_parsing(settings, templates, kind):
    data = make(settings, templates, embargoed(), kind=kind, marked=True)
    message = email.message_from_bytes(data, policy=email.policy.strict)
    assert not message.defects and all(not part.defects for part in message.walk())


def test_cutting_a_stencil_costs_linear_time_in_the_body_lines():
    """A 20 MB release once took 8 minutes: literal lines were joined one by one."""
    import time

    from distribution.mail.stencil import cut

    def seconds(lines: int) -> float:
        body = "\n".join(f"line {n} of a long release, as long as a usual line" for n in
                         range(lines))
        started = time.perf_counter()
        stencil = cut(b"Subject: x\r\n\r\nTOKEN\r\n", {}, {"TOKEN": (body, False)},
                      {"VALUE": "unsubscribe_url"})
        assert len(stencil.segments) == 1
        return time.perf_counter() - started

    assert seconds(60_000) < 5  # about 0.1 s; joined line by line, minutes
