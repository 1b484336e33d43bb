"""Message catalogs: complete for every language, compiled, and no English left in a copy.

Every template kind (each email, each page, the confirmation mail) is rendered in French,
Spanish and Arabic, and scanned for the English source strings of the catalog.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

from distribution.locales import CATALOGS, LANGUAGES
from distribution.mail import tokens
from distribution.mail.render import load_templates, render
from distribution.store.models import Release, ReleaseStatus
from distribution.web.app import create_app
from tests.fixtures.settings import make_settings
from tests.fixtures.webpages import add_list, add_member, csrf_token, outbox_messages
from tests.test_render import recipient, sample_release

pytest_plugins = ["tests.fixtures.web"]

ROOT = Path(__file__).resolve().parents[1]
TRANSLATED = [code for code in LANGUAGES if code != "en"]
KINDS = ["release", "test", "notice_moved", "notice_lifted", "notice_withdrawn", "correction"]
NOTES = {"notice_moved": "The embargo has moved to 10:00 CEST, 17 April 2099 (08:00 UTC).",
         "notice_lifted": "Lifted at 08:00 CEST, 16 April 2099 (06:00 UTC): you may publish now.",
         "notice_withdrawn": "Withdrawn at 08:00 CEST, 16 April 2099 (06:00 UTC). Do not "
                             "publish it, in whole or in part, and delete any copy you hold.",
         "correction": "Changed: headline; paragraphs 2–3; the “About the IIIM” section."}
HEADLINES = {"fr": "Le chef du Mécanisme conclut sa visite", "es": "El jefe concluye su visita",
             "ar": "رئيس الآلية يختتم زيارته"}


def _extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
            str(ROOT), method_map=[("distribution/**.py", "python"),
                                   ("templates/**.j2", "jinja2")],
            options_map={"templates/**.j2": {"extensions": "jinja2.ext.i18n",
                                             "trim_blocks": "True", "lstrip_blocks": "True"}},
            keywords={"_": None, "gettext": None, "N_": None, "translate": (2,)}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(code: str):  # type: ignore[no-untyped-def]
    with (CATALOGS / code / "LC_MESSAGES" / "pressroom.po").open("rb") as f:
        return read_po(f)


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_string_of_the_code_and_templates_is_in_each_catalog(code):
    catalog = _catalog(code)
    missing = sorted(_extracted() - {m.id for m in catalog if m.id})
    assert missing == []
    if code != "en":
        untranslated = [m.id for m in catalog if m.id and not m.string]
        assert untranslated == []
        assert not catalog.fuzzy


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_translation_keeps_the_placeholders_of_its_source(code):
    for message in _catalog(code):
        if message.id:
            assert sorted(re.findall(r"%\(\w+\)s", message.string)) == sorted(
                re.findall(r"%\(\w+\)s", message.id)), message.id


def test_a_message_handed_to_a_template_is_escaped_not_trusted(tmp_path):
    from distribution.web.pages import Pages

    pages = Pages(make_settings(tmp_path, "sqlite://"))
    html = pages.text("error.html.j2", {"title": "<b>x</b>", "message": "<script>1</script>"},
                      "fr")
    assert "<script>" not in html and "&lt;script&gt;1&lt;/script&gt;" in html


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalog_matches_its_source(code):
    folder = CATALOGS / code / "LC_MESSAGES"
    with (folder / "pressroom.mo").open("rb") as f:
        compiled = {m.id: m.string for m in read_mo(f) if m.id}
    assert compiled == {m.id: m.string for m in _catalog(code) if m.id}


def _english_fragments(code: str) -> set[str]:
    """Pieces of the source strings a reader would notice, unless the language shares them."""
    fragments = set()
    for message in _catalog(code):
        if not message.id or message.id == message.string:
            continue
        for piece in re.split(r"%\(\w+\)s|[“”:.,;?!()–←→]", message.id):
            piece = piece.strip()
            if len(piece) >= 6 and piece not in message.string:
                fragments.add(piece)
    return fragments


def _visible(markup: str) -> str:
    """What a reader sees: text and attribute values people read, without tags or styles."""
    markup = re.sub(r"<style.*?</style>", " ", markup, flags=re.S)
    shown = re.findall(r'(?:title|aria-label|alt)="([^"]*)"', markup)
    return " ".join([re.sub(r"<[^>]+>", " ", markup), *shown])


def _assert_no_english(code: str, where: str, text: str) -> None:
    text = _visible(text)
    found = sorted(f for f in _english_fragments(code) if re.search(rf"\b{re.escape(f)}\b", text))
    assert found == [], f"English in the {code} {where}"


def _version(code: str, **fields: object) -> Release:
    values: dict[str, object] = dict(
        language=code, headline=HEADLINES[code], body="Texte. Texto. نص.", dateline_text=None,
        dateline_place=None, boilerplate=None, boilerplate_heading=None, end_marker="",
        media_contacts=[{"name": "Media", "email": "media@iiim.example.org",
                         "phone": "+41 22 917 00 00"}])
    return sample_release(**{**values, **fields})


@pytest.mark.parametrize("code", TRANSLATED)
@pytest.mark.parametrize("kind", KINDS)
def test_no_english_fixed_string_in_an_email_of_another_language(tmp_path, code, kind):
    settings = make_settings(tmp_path, "sqlite://")
    release = _version(code, embargo_until=datetime(2099, 4, 16, 7, tzinfo=UTC),
                       embargo_zone="Europe/Zurich",
                       withdrawn_at=datetime(2099, 4, 16, 6, tzinfo=UTC))
    data = render(release, recipient(timezone="America/New_York"), load_templates(settings),
                  settings, marked=kind != "notice_lifted", list_name="media", kind=kind,
                  note=NOTES.get(kind), date=datetime(2099, 4, 1, tzinfo=UTC))
    message = email.message_from_bytes(data, policy=email.policy.default)
    text, html = (p.get_content() for p in message.iter_parts())
    for where, content in (("subject", str(message["Subject"])), ("text", text),
                           ("html", html)):
        _assert_no_english(code, f"{kind} {where}", content)
    house = {"fr": "-FIN-", "es": "-FIN-", "ar": "-انتهى-"}[code]
    if kind in ("release", "test", "correction"):
        assert text.count(house) == 1 and "-ENDS-" not in text


def test_the_release_own_end_marker_is_never_doubled(tmp_path):
    settings = make_settings(tmp_path, "sqlite://")
    data = render(_version("ar", end_marker="-انتهى-"), recipient(), load_templates(settings),
                  settings, marked=False)
    message = email.message_from_bytes(data, policy=email.policy.default)
    text, html = (p.get_content() for p in message.iter_parts())
    assert text.count("-انتهى-") == 1 and "-ENDS-" not in text
    assert html.count("-انتهى-") == 1 and "-ENDS-" not in html


def test_an_arabic_embargo_line_has_arabic_month_names(tmp_path):
    settings = make_settings(tmp_path, "sqlite://")
    release = _version("ar", embargo_until=datetime(2099, 4, 16, 7, tzinfo=UTC),
                       embargo_zone="Asia/Damascus")
    data = render(release, recipient(), load_templates(settings), settings, marked=True)
    subject = str(email.message_from_bytes(data, policy=email.policy.default)["Subject"])
    assert subject.startswith("يُحظر النشر حظراً تاماً حتى 10:00 UTC+03:00، 16 أبريل 2099") \
        or "أبريل" in subject or "نيسان" in subject


@pytest.fixture
def site(sqlite_store, settings, clock):  # type: ignore[no-untyped-def]
    """A newsroom with one public release in every language, lists and a member."""
    with sqlite_store.Session.begin() as session:
        sent = clock.now - timedelta(hours=1)
        original = _version("fr", status=ReleaseStatus.SENT, first_sent_at=sent)
        session.add(original)
        session.flush()
        for code in ("es", "ar"):
            session.add(_version(code, status=ReleaseStatus.SENT, first_sent_at=sent,
                                 version_of_id=original.id))
        newsroom = add_list(session, "Newsroom", open_signup=True)
        member = add_member(session, newsroom, "jane@example.org")
        ids = (original.id, member.id, newsroom.id)
    app = create_app(settings, sqlite_store.Session, clock=clock)
    with TestClient(app) as client:
        yield client, ids


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_english_fixed_string_on_any_page_of_another_language(site, settings, code):
    client, (release_id, contact_id, list_id) = site
    unsubscribe = "/u/" + tokens.unsubscribe_token(settings, contact_id, list_id)
    preferences = "/preferences/" + tokens.preferences_token(settings, contact_id)
    pages = {
        "listing": client.get(f"/releases?lang={code}"),
        "release": client.get(f"/releases/{release_id}?lang={code}"),
        "missing": client.get(f"/releases/999?lang={code}"),
        "subscribe": client.get(f"/subscribe/Newsroom?lang={code}"),
        "unsubscribe": client.get(f"{unsubscribe}?lang={code}"),
        "unsubscribed": client.post(f"{unsubscribe}?lang={code}", data={"scope": "list"}),
        "preferences": client.get(f"{preferences}?lang={code}"),
        "bad link": client.get(f"/confirm/forged?lang={code}"),
        "feed": client.get(f"/feed/{code}.atom"),
    }
    form = client.get(f"/subscribe/Newsroom?lang={code}")
    pages["sign-up error"] = client.post(f"/subscribe/Newsroom?lang={code}", data={
        "csrf_token": csrf_token(form.text), "email": "not an address"})
    pages["sent"] = client.post(f"/subscribe/Newsroom?lang={code}", data={
        "csrf_token": csrf_token(form.text), "email": "new@example.org", "language": code,
        "consent": "yes"})
    for where, response in pages.items():
        _assert_no_english(code, where, response.text)
        if where != "feed":
            assert f'<html lang="{code}" dir="{"rtl" if code == "ar" else "ltr"}">' \
                in response.text, where
    [mail] = outbox_messages(settings)
    confirm_path = next(line for line in mail.get_body(("plain",)).get_content().split()
                        if "/confirm/" in line).split(settings.base_url.rstrip("/"))[1]
    for part in mail.iter_parts():
        _assert_no_english(code, "confirmation mail", part.get_content())
    _assert_no_english(code, "confirmation mail subject", str(mail["Subject"]))
    _assert_no_english(code, "confirm page", client.get(confirm_path).text)
