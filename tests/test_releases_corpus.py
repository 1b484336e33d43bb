"""The parser scored field by field on real releases from many offices and languages, and
each convention it reads shown on synthetic lines."""

from __future__ import annotations

import datetime
import time

import pytest

from distribution.releases.conventions.embargo_lines import read_embargo_line, time_for_reading
from distribution.releases.parse import parse_release
from distribution.times import parse_embargo_text
from tests.fixtures.corpus import score_corpus

BODY = "The Mechanism met the minister on Tuesday. Both sides agreed to cooperate."


def test_corpus_score_meets_the_target() -> None:
    score = score_corpus()
    print("\n" + score.table())
    misses = [miss for tally in score.fields.values() for miss in tally.misses]
    assert score.releases >= 40
    assert score.right / score.present >= 0.95, "\n".join(misses)
    assert score.invented * 20 <= score.releases, "\n".join(misses)


@pytest.mark.parametrize(("line", "convention", "expected"), [
    ("EMBARGOED UNTIL 00:01 GMT TUESDAY 5 MAY 2020", "English 'embargoed until'",
     datetime.datetime(2020, 5, 5, 0, 1, tzinfo=datetime.UTC)),
    ("Embargo: 09:00 CET, 16 April 2025", "English 'embargo:'",
     datetime.datetime(2025, 4, 16, 8, 0, tzinfo=datetime.UTC)),
    ("Under embargo until 14:00 GMT, 3 June 2025", "English 'embargoed until'",
     datetime.datetime(2025, 6, 3, 14, 0, tzinfo=datetime.UTC)),
    ("Not for publication before 10:00 UTC 1 July 2025", "English 'not for publication before'",
     datetime.datetime(2025, 7, 1, 10, 0, tzinfo=datetime.UTC)),
    ("Sous embargo jusqu'au 16 avril 2025 à 9 h 00 CET", "French 'sous embargo jusqu'au'",
     datetime.datetime(2025, 4, 16, 8, 0, tzinfo=datetime.UTC)),
    ("Embargo hasta el 28 de diciembre de 2025 a las 10:00 GMT", "Spanish 'embargo hasta'",
     datetime.datetime(2025, 12, 28, 10, 0, tzinfo=datetime.UTC)),
    ("Sperrfrist: 4. April 2025, 10:00 Uhr MEZ", "German 'Sperrfrist'",
     datetime.datetime(2025, 4, 4, 9, 0, tzinfo=datetime.UTC)),
    ("حظر النشر حتى الساعة 10:00 بتوقيت غرينتش يوم ٣ آذار/مارس ٢٠٢٥",
     "Arabic 'حظر النشر حتى'", datetime.datetime(2025, 3, 3, 10, 0, tzinfo=datetime.UTC)),
])
def test_embargo_line_conventions_are_read(line: str, convention: str,
                                           expected: datetime.datetime) -> None:
    found = read_embargo_line(line)
    assert found is not None and found[0] == convention
    when = parse_embargo_text(time_for_reading(found[1]), "UTC")
    assert when.utc == expected
    release = parse_release(f"{line}\n\nHeadline of the release\n\n{BODY}\n")
    assert release.headline == "Headline of the release"
    assert release.embargo_convention == convention


@pytest.mark.parametrize("line", [
    "EMBARGOED UNTIL FURTHER NOTICE 2025", "Embargo until the minister has spoken",
    "Sperrfrist bis zur Rede des Ministers",
])
def test_a_line_that_looks_like_an_embargo_is_never_body_text(line: str) -> None:
    release = parse_release(f"{line}\n\nHeadline of the release\n\n{BODY}\n")
    assert release.headline == "Headline of the release"
    assert release.embargo_text is not None or release.unreadable_embargo == line


@pytest.mark.parametrize(("kicker", "date"), [
    ("FOR IMMEDIATE RELEASE", None), ("MEDIA ALERT", None), ("NEWS RELEASE", None),
    ("PHOTO OPPORTUNITY", None), ("SG/SM/20001", None), ("Communiqué de presse", None),
    ("بيان صحفي", None), ("Press Release: 14 May 2019 |", datetime.date(2019, 5, 14)),
    ("Pressemitteilung Nr. 12", None), ("Avis aux médias: 9 juillet 2003",
                                        datetime.date(2003, 7, 9)),
])
def test_kickers_are_not_headlines(kicker: str, date: datetime.date | None) -> None:
    release = parse_release(f"{kicker}\n\nThe real headline\n\n{BODY}\n")
    assert release.headline == "The real headline"
    assert release.kickers == [kicker]
    assert release.dateline_date == date


@pytest.mark.parametrize(("opening", "place", "date"), [
    ("BOSTON, MA —3 May 2021— The", "BOSTON, MA", datetime.date(2021, 5, 3)),
    ("Austin, TX — 9 June 2018 — The", "Austin, TX", datetime.date(2018, 6, 9)),
    ("WASHINGTON, D.C. (Oct. 4, 2022) – The", "WASHINGTON, D.C.", datetime.date(2022, 10, 4)),
    ("NAIROBI/GENEVA, 2 March 2023 – The", "NAIROBI/GENEVA", datetime.date(2023, 3, 2)),
    ("نيويورك 3 آذار/مارس 2025 – أعلن", "نيويورك", datetime.date(2025, 3, 3)),
    ("بيروت، ٢٤ تشرين الأول/أكتوبر ٢٠٢٣ -- أعلن", "بيروت", datetime.date(2023, 10, 24)),
    ("القاهرة، 5 يناير 2024 – أعلن", "القاهرة", datetime.date(2024, 1, 5)),
    ("GENÈVE, 1er mars 2024 – Le", "GENÈVE", datetime.date(2024, 3, 1)),
    ("GINEBRA (19 de septiembre de 2013) – El", "GINEBRA", datetime.date(2013, 9, 19)),
    ("Berlin, 4. März 2025 – Die", "Berlin", datetime.date(2025, 3, 4)),
    ("Wien (OTS) – Die", "Wien", None),
    ("(Nairobi) –The", "Nairobi", None),
])
def test_dateline_shapes(opening: str, place: str, date: datetime.date | None) -> None:
    release = parse_release(f"Headline\n\n{opening} rest of the first paragraph.\n\n{BODY}\n")
    assert (release.dateline_place, release.dateline_date) == (place, date)


def test_a_date_alone_under_the_headline_dates_the_release() -> None:
    release = parse_release(f"Headline\n\n٠٧ نوفمبر ٢٠٢٣\n\n{BODY}\n")
    assert release.dateline_date == datetime.date(2023, 11, 7)
    assert release.body == BODY


@pytest.mark.parametrize("marker", ["***", "###", "# # #", "-30-", "ENDS", "– Ende –", "FIN",
                                    "-FIN-", "-انتهى-", "(Schluss)"])
def test_end_markers(marker: str) -> None:
    release = parse_release(f"Headline\n\n{BODY}\n\n{marker}\n\nAbout Us\n\nWe are.\n")
    assert release.end_marker == marker


@pytest.mark.parametrize(("heading", "contact"), [
    ("Pressekontakt:", "Anna Muster, presse@example.org"),
    ("Contact presse :", "Jeanne Petit, presse@example.org"),
    ("Pour toute demande des médias, veuillez contacter :", "presse@example.org"),
    ("Contacto de prensa:", "prensa@example.org"),
    ("للاستفسارات الإعلامية يرجى الاتصال:", "media@example.org"),
])
def test_contact_introductions(heading: str, contact: str) -> None:
    release = parse_release(f"Headline\n\n{BODY}\n\n{heading}\n{contact}\n")
    assert [c.email for c in release.media_contacts] == [contact.split()[-1]]


@pytest.mark.parametrize("heading", ["Notes to editors", "Hintergrund", "Über die Stiftung",
                                     "À propos de la Fondation", "Acerca de la ONU",
                                     "نبذة عن اليونيسف"])
def test_boilerplate_headings(heading: str) -> None:
    release = parse_release(f"Headline\n\n{BODY}\n\n{heading}\n\nWho we are.\n")
    assert release.boilerplate_heading == heading


def test_a_twenty_page_release_parses_well_under_a_second() -> None:
    paragraph = ("Geneva officials said on 3 March 2025 that “the work continues” – and "
                 "more will follow, as press@example.org confirmed. ") * 4
    text = "Headline\n\nGeneva, 3 March 2025 – Text.\n\n" + "\n\n".join([paragraph] * 400)
    started = time.perf_counter()
    parse_release(text)
    assert time.perf_counter() - started < 0.5
