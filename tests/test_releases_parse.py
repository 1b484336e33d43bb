"""Release-file parsing: the nine real samples, then synthetic cases for each rule."""

from __future__ import annotations

import datetime
import filecmp
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution.releases.parse import (
    MediaContact,
    ParsedRelease,
    ReleaseError,
    parse_release,
    read_release_file,
)

# The samples live in the shared folder beside the repository; a copy in tests/data keeps
# the tests working in a clean clone.
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples" / "releases"
SAMPLES = Path(__file__).resolve().parent / "data" / "releases"
SAMPLE_NAMES = [
    "01-iiim-head-concludes-damascus-visit.txt",
    "02-jit-convictions-ezidis.txt",
    "03-interview-al-quds-al-arabi.txt",
    "04-hrc-side-event.txt",
    "05-statement-on-syria-anniversary.txt",
    "06-anadolu-interview.txt",
    "07-le-temps-interview.txt",
    "08-ministerial-briefing.txt",
    "09-munich-conference-2025.txt",
]

BODY = "The Mechanism met the minister on Tuesday. Both sides agreed to cooperate."


def sample(number: int) -> ParsedRelease:
    return read_release_file(SAMPLES / SAMPLE_NAMES[number - 1])


def blocks(text: str | None) -> list[str]:
    assert text is not None
    return text.split("\n\n")


def assert_body_format(text: str) -> None:
    assert "\n\n\n" not in text
    assert not text.startswith("\n") and not text.endswith("\n")
    for line in text.split("\n"):
        assert line == line.strip()
        assert "  " not in line and "\t" not in line and "\u00a0" not in line


# --- the real samples -------------------------------------------------------------------


def test_the_test_copies_match_the_shared_samples() -> None:
    assert sorted(p.name for p in SAMPLES.iterdir()) == SAMPLE_NAMES
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("no shared samples folder beside this clone")
    assert sorted(p.name for p in SHARED_SAMPLES.iterdir()) == SAMPLE_NAMES
    _, mismatch, errors = filecmp.cmpfiles(SHARED_SAMPLES, SAMPLES, SAMPLE_NAMES, shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_sample_parses_into_well_formed_fields(name: str) -> None:
    release = read_release_file(SAMPLES / name)
    assert release.headline and release.headline == release.headline.strip()
    assert release.body
    assert_body_format(release.body)
    if release.boilerplate is not None:
        assert_body_format(release.boilerplate)
    assert release.language == "en" and release.language_guessed and release.front_matter == {}
    assert release.embargo_text is None


def test_sample_01_marker_after_boilerplate_and_obfuscated_contact() -> None:
    release = sample(1)
    assert release.headline.startswith("IIIM Head Concludes his visit to Damascus")
    assert release.headline.endswith("Syria’s Transitional Justice Efforts")
    assert release.subheadline is None
    assert release.dateline_place == "Damascus"
    assert release.dateline_date == datetime.date(2025, 4, 16)
    assert release.dateline_text == "Damascus, April 16, 2025"
    assert release.end_marker == "-ENDS-"
    assert release.boilerplate_heading == "About the IIIM"

    body = blocks(release.body)
    assert body[0].startswith("Assistant Secretary-General Robert Petit, leading a delegation")
    assert body[-1].startswith("The IIIM remains committed to fulfilling its mandate")
    assert len(body) == 7
    assert "“It was a constructive meeting" in body[3]
    for absent in ("-ENDS-", "For media inquiries", "Damascus, April 16, 2025", "About the IIIM"):
        assert absent not in release.body

    boilerplate = blocks(release.boilerplate)
    assert boilerplate[0].startswith("The International, Impartial and Independent Mechanism")
    assert "The IIIM is:" in boilerplate
    assert boilerplate[boilerplate.index("The IIIM is:") + 1].split("\n") == [
        "- Independent: Works without external instructions or influences. It does not share"
        " details of the justice processes it supports publicly except as authorised by"
        " competent jurisdictions.",
        "- Impartial: Works to cover all international crimes committed by all parties in the"
        " conflict, no matter the affiliation, without bias.",
        "- Rigorous: Applies international criminal law methodologies throughout all tracks of"
        " its work.",
    ]
    assert boilerplate[-1].startswith("Since the start of its operations")
    assert "-ENDS-" not in release.boilerplate

    assert all(contact.email is None for contact in release.media_contacts)
    assert release.media_contact_text == "For media inquiries please contact: [email protected]"
    assert any("obfuscated" in w and "[email protected]" in w for w in release.warnings)


def test_sample_02_bare_url_and_non_breaking_spaces() -> None:
    release = sample(2)
    assert release.headline == "JIT Cooperation Leads to Convictions for Crimes against Ezidis"
    assert release.subheadline is None
    assert release.dateline_text is None and release.dateline_place is None
    assert release.end_marker is None and release.boilerplate is None
    assert release.media_contacts == [] and release.media_contact_text is None
    body = blocks(release.body)
    assert len(body) == 3
    assert "first two convictions of ISIL foreign fighters for crimes against Ezidi victims" in (
        body[0]
    )
    assert body[-1] == (
        "https://www.eurojust.europa.eu/news/cooperation-joint-investigation-team-crimes-against"
        "-ezidi-victims-syria-and-iraq-leads-first"
    )
    assert release.warnings == []


def test_sample_03_opening_quote_and_photo_credit() -> None:
    release = sample(3)
    assert release.headline == "IIIM Head’s interview with Al-Qudas Al-Arabi"
    assert release.subheadline is None  # the quote line is a pull quote, not a subheadline
    assert release.dateline_text is None
    body = blocks(release.body)
    assert body[0] == (
        "“Victims never forget, and acknowledging their suffering is an essential part of any"
        " credible transitional justice effort.”"
    )
    assert body[1].endswith("Read the full article (Arabic) here.")
    assert body[-1] == "©Keystone/Salvatore Di Nolfi"
    assert any("Read the full article (Arabic) here." in w for w in release.warnings)


def test_sample_04_pull_quote_before_a_dateline_without_year() -> None:
    release = sample(4)
    assert release.headline == "IIIM Head participated in an HRC side event"
    assert release.subheadline is None
    assert release.dateline_place == "Geneva"
    assert release.dateline_text == "Geneva, March 19"
    assert release.dateline_date is None
    assert any("no year" in w and "date:" in w for w in release.warnings)
    body = blocks(release.body)
    assert body[0] == (
        "We want transitional justice for all of Syria. This justice has to happen.” Fadwa Mahmud"
    )
    assert body[1].startswith("The pain of not knowing and not yet receiving justice")
    assert "Geneva, March 19" not in release.body
    assert len(body) == 4


def test_sample_05_closing_dateline() -> None:
    release = sample(5)
    assert release.headline.startswith("Statement by the Head of the International, Impartial")
    assert release.subheadline is None
    assert release.dateline_place == "Geneva"
    assert release.dateline_date == datetime.date(2025, 3, 14)
    assert release.dateline_text == "Geneva, 14 March 2025"
    # A statement ends with its place and date: the line stays where it was written.
    body = blocks(release.body)
    assert body[-1] == "Geneva, 14 March 2025"
    assert len(body) == 7
    assert body[0].startswith("This year, we mark the anniversary")
    assert "Ramadan—a time" in body[0]  # the em dash is kept as written
    assert body[-2].endswith("the foundations of justice and accountability.")
    assert release.warnings == []


def test_sample_06_read_here_line_and_credit() -> None:
    release = sample(6)
    assert release.headline == "Anadolu Agency interview with IIIM Head"
    assert release.dateline_text is None  # "December 8" inside a sentence is not a dateline
    body = blocks(release.body)
    assert body[0].startswith("In an Interview with Anadolu Agency")
    assert body[-2] == "Read the full article here in English and original one in Turkish here."
    assert body[-1] == "©Muhammet İkbal Arslan/AA"
    assert len(release.warnings) == 1 and "refers to a link" in release.warnings[0]


def test_sample_07_quotes_stay_paragraphs() -> None:
    release = sample(7)
    assert release.headline == "Le Temps Interview with IIIM Head"
    assert release.subheadline is None
    body = blocks(release.body)
    assert body[1].startswith("“This is a fundamental change")
    assert body[-2] == "Read the full article here."
    assert body[-1] == "©Nora Teylouni / Le Temps"
    assert len(body) == 5


def test_sample_08_pull_quote_and_dateline_without_comma_or_year() -> None:
    release = sample(8)
    assert release.headline == "Ministerial Briefing for supportive Member States"
    assert release.subheadline is None
    assert release.dateline_place == "Geneva"
    assert release.dateline_text == "Geneva 25 February"
    assert release.dateline_date is None
    assert any("no year" in w for w in release.warnings)
    body = blocks(release.body)
    assert body[0].startswith("“Now is the moment to build a future Syria")
    assert body[1].startswith("The Foreign Minister of Liechtenstein, H.E. Ms. Dominique Hasler")
    assert "earlier last week. Ministers and other" in body[1]  # the NBSP became a space
    assert len(body) == 4


def test_sample_09_plain_release() -> None:
    release = sample(9)
    assert release.headline == "Munich Conference 2025"
    assert release.subheadline is None
    assert release.dateline_text is None
    body = blocks(release.body)
    assert len(body) == 2
    assert body[0].startswith("At the Munich Security Conference")
    assert release.warnings == []


# --- end markers and end matter ------------------------------------------------------------


@pytest.mark.parametrize(
    "marker", ["-ENDS-", "ENDS", "- ends -", "-end-", "###", "# # #", "-30-", "* *** *", "Ends"]
)
def test_end_marker_variants(marker: str) -> None:
    release = parse_release(f"Headline\n\n{BODY}\n\n{marker}\n\nAbout Acme\n\nAcme makes things.\n")
    assert release.end_marker == marker
    assert release.body == BODY
    assert release.boilerplate_heading == "About Acme"
    assert release.boilerplate == "Acme makes things."


def test_end_marker_on_the_line_after_the_last_paragraph() -> None:
    release = parse_release(f"Headline\n\n{BODY}\n###\n")
    assert release.end_marker == "###"
    assert release.body == BODY


def test_marker_first_then_contact_then_notes_to_editors() -> None:
    text = (
        f"Headline\n\n{BODY}\n\n- ends -\n\n"
        "Media contact: Jane Doe, jane.doe@example.org\n\n"
        "Notes to editors\n\n1. The Mechanism was set up in 2016.\n2. It is not a court.\n"
    )
    release = parse_release(text)
    assert release.end_marker == "- ends -"
    assert release.body == BODY
    assert release.media_contacts == [MediaContact("Jane Doe", "jane.doe@example.org", None)]
    assert release.boilerplate_heading == "Notes to editors"
    assert release.boilerplate == "1. The Mechanism was set up in 2016.\n2. It is not a court."


def test_background_heading_with_colon_and_loose_list() -> None:
    text = f"Headline\n\n{BODY}\n\nBackground:\n\n• First point.\n\n• Second point.\n\n-30-\n"
    release = parse_release(text)
    assert release.boilerplate_heading == "Background"
    assert release.boilerplate == "- First point.\n- Second point."
    assert release.end_marker == "-30-"
    assert release.body == BODY


def test_a_lower_case_end_inside_wrapped_prose_is_not_a_marker() -> None:
    release = parse_release(f"Headline\n\nThe war must\nend\nnow, said the envoy.\n\n{BODY}\n")
    assert release.end_marker is None
    assert release.body == f"The war must end now, said the envoy.\n\n{BODY}"


def test_prose_starting_with_about_is_not_a_heading() -> None:
    text = f"Headline\n\n{BODY}\n\nAbout 200 people attended the event in Geneva.\n"
    release = parse_release(text)
    assert release.boilerplate is None and release.boilerplate_heading is None
    assert release.body.endswith("About 200 people attended the event in Geneva.")


def test_text_after_the_marker_without_heading_is_boilerplate() -> None:
    release = parse_release(f"Headline\n\n{BODY}\n\nENDS\n\nPhotos are free to use.\n")
    assert release.body == BODY
    assert release.boilerplate_heading is None
    assert release.boilerplate == "Photos are free to use."


# --- media contacts ------------------------------------------------------------------------


def test_contact_block_with_name_email_and_phone() -> None:
    text = (
        f"Headline\n\n{BODY}\n\n"
        "For more information, contact:\nJane Doe, Spokesperson\n+41 22 917 12 34\n"
        "jane.doe@example.org\n\n###\n"
    )
    release = parse_release(text)
    assert release.media_contacts == [
        MediaContact("Jane Doe", "jane.doe@example.org", "+41 22 917 12 34")
    ]
    assert release.media_contact_text == (
        "For more information, contact:\nJane Doe, Spokesperson\n+41 22 917 12 34\n"
        "jane.doe@example.org"
    )
    assert release.body == BODY
    assert release.warnings == []


def test_several_contacts_on_one_line_and_after_a_lone_heading() -> None:
    text = (
        f"Headline\n\n{BODY}\n\nPress contacts:\n\n"
        "Jane Doe (jane@example.org), Tel: +41 22 917 12 34; John Roe, john@example.org\n\n"
        "Ana Lima, E-mail: ana@example.org\n"
    )
    release = parse_release(text)
    assert release.media_contacts == [
        MediaContact("Jane Doe", "jane@example.org", "+41 22 917 12 34"),
        MediaContact("John Roe", "john@example.org", None),
        MediaContact("Ana Lima", "ana@example.org", None),
    ]
    assert release.body == BODY


def test_contact_block_stops_at_the_boilerplate_heading() -> None:
    text = (
        f"Headline\n\n{BODY}\n\nMedia contact:\n\nJane Doe +41 22 917 12 34\n\n"
        "About Acme\nAcme, Geneva, +41 22 917 00 00\n"
    )
    release = parse_release(text)
    assert release.media_contacts == [MediaContact("Jane Doe", None, "+41 22 917 12 34")]
    assert release.media_contact_text == "Media contact:\n\nJane Doe +41 22 917 12 34"
    assert release.boilerplate_heading == "About Acme"
    assert release.boilerplate == "Acme, Geneva, +41 22 917 00 00"


def test_obfuscated_and_invalid_addresses_are_never_kept() -> None:
    text = (
        f"Headline\n\n{BODY}\n\n"
        "Media contact(s): Jane Doe [email protected]\nJohn Roe john..roe@example.org\n"
    )
    release = parse_release(text)
    assert [c.email for c in release.media_contacts] == [None, None]
    assert [c.name for c in release.media_contacts] == ["Jane Doe", "John Roe"]
    assert any("obfuscated ('[email protected]'); set one with --contact" in w
               for w in release.warnings)
    assert any("'john..roe@example.org' is not a valid email address" in w
               for w in release.warnings)


# --- datelines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "place", "date", "text"),
    [
        ("GENEVA, 16 April 2025 — The", "GENEVA", datetime.date(2025, 4, 16),
         "GENEVA, 16 April 2025"),
        ("Geneva, Apr. 16, 2025 - The", "Geneva", datetime.date(2025, 4, 16),
         "Geneva, Apr. 16, 2025"),
        ("The Hague, Sept 9, 2024 -- The", "The Hague", datetime.date(2024, 9, 9),
         "The Hague, Sept 9, 2024"),
        ("New York, Tuesday 3rd June 2025 – The", "New York", datetime.date(2025, 6, 3),
         "New York, Tuesday 3rd June 2025"),
        ("Geneva 25 February – The", "Geneva", None, "Geneva 25 February"),
    ],
)
def test_opening_dateline_forms(
    line: str, place: str, date: datetime.date | None, text: str
) -> None:
    release = parse_release(f"Headline\n\n{line} Mechanism met the minister.\n\n{BODY}\n")
    assert (release.dateline_place, release.dateline_date, release.dateline_text) == (
        place, date, text,
    )
    assert release.body.startswith("The Mechanism met the minister.\n\n")


@pytest.mark.parametrize("line", ["GENEVA, 16 April 2025", "GENEVA, 16 April 2025 –"])
def test_opening_dateline_on_a_line_of_its_own(line: str) -> None:
    release = parse_release(f"Headline\n\n{line}\n{BODY}\n\nMore text.\n")
    assert release.dateline_text == "GENEVA, 16 April 2025"
    assert release.dateline_date == datetime.date(2025, 4, 16)
    assert release.body == f"{BODY}\n\nMore text."


def test_a_sentence_opening_with_a_date_is_not_a_dateline() -> None:
    release = parse_release(f"Headline\n\nOn 16 April – a day late – the IIIM met.\n\n{BODY}\n")
    assert release.dateline_text is None and release.dateline_place is None
    assert release.body.startswith("On 16 April – a day late – the IIIM met.")


def test_impossible_date_is_reported() -> None:
    release = parse_release(f"Headline\n\nGeneva, 31 February 2025 – {BODY}\n")
    assert release.dateline_place == "Geneva" and release.dateline_date is None
    assert any("does not exist" in w for w in release.warnings)


# --- headline, subheadline, embargo --------------------------------------------------------


def test_short_line_after_headline_is_the_subheadline() -> None:
    release = parse_release(f"Headline\n\nA subheadline without final period\n\n{BODY}\n")
    assert release.subheadline == "A subheadline without final period"
    assert release.body == BODY


@pytest.mark.parametrize(
    "line",
    [
        "This short line ends with a period.",
        "“A quote is a pull quote”",
        "Justice has to happen,” said Fadwa Mahmud",
        "Geneva, 14 March 2025",
        "• a list item",
        "©Photographer",
    ],
)
def test_lines_that_are_not_subheadlines(line: str) -> None:
    release = parse_release(f"Headline\n\n{line}\n\n{BODY}\n")
    assert release.subheadline is None


def test_italic_subheadline_may_end_with_a_period() -> None:
    release = parse_release(f"Headline\n\n*The Mechanism opens an office.*\n\n{BODY}\n")
    assert release.subheadline == "The Mechanism opens an office."
    assert release.body == BODY


def test_a_lone_short_paragraph_is_body_not_subheadline() -> None:
    release = parse_release("Headline\n\nOnly one short line\n")
    assert release.subheadline is None
    assert release.body == "Only one short line"


@pytest.mark.parametrize(
    ("line", "time"),
    [
        ("EMBARGOED UNTIL 09:00 CET, 16 April 2025", "09:00 CET, 16 April 2025"),
        ("EMBARGO: 2025-04-16 09:00 Europe/Zurich", "2025-04-16 09:00 Europe/Zurich"),
        ("Under embargo until: Wednesday 16 April, 09:00 GMT", "Wednesday 16 April, 09:00 GMT"),
    ],
)
def test_embargo_line_before_the_headline(line: str, time: str) -> None:
    release = parse_release(f"{line}\n\nHeadline\n\n{BODY}\n")
    assert release.embargo_text == time
    assert release.headline == "Headline"
    assert release.body == BODY


def test_embargo_line_right_after_the_headline() -> None:
    release = parse_release(f"Headline\nEMBARGOED UNTIL 09:00 CET, 16 April 2025\n\n{BODY}\n")
    assert release.headline == "Headline"
    assert release.embargo_text == "09:00 CET, 16 April 2025"
    assert release.body == BODY


def test_a_headline_about_an_embargo_is_a_headline() -> None:
    release = parse_release(f"Embargo on arms lifted\n\n{BODY}\n")
    assert release.headline == "Embargo on arms lifted"
    assert release.embargo_text is None


def test_for_immediate_release_label_is_not_the_headline() -> None:
    release = parse_release(f"FOR IMMEDIATE RELEASE\n\nHeadline\n\n{BODY}\n")
    assert release.headline == "Headline"
    assert release.embargo_text is None


@pytest.mark.parametrize("text", ["", "   \n\t\n\u00a0\n", "\ufeff"])
def test_no_headline_is_an_error(text: str) -> None:
    with pytest.raises(ReleaseError, match="^release has no headline$"):
        parse_release(text)


# --- body format ---------------------------------------------------------------------------


def test_body_format_joins_lines_lists_items_and_normalises_whitespace() -> None:
    text = (
        "Headline\n\nThe  first\tparagraph is\nwrapped\u00a0here.  \n\n"
        "The IIIM is:\n  • Independent: works\n    without instructions.\n  - Impartial\n"
        "  * Rigorous\n  – Careful\n  1. Numbered\n  2) Also numbered\n\n"
        "“Quoted,” she said.\n\n©Photo Person\n\nhttps://example.org/a?b=c\n"
    )
    assert parse_release(text).body == (
        "The first paragraph is wrapped here.\n\n"
        "The IIIM is:\n\n"
        "- Independent: works without instructions.\n- Impartial\n- Rigorous\n- Careful\n\n"
        "1. Numbered\n2. Also numbered\n\n"
        "“Quoted,” she said.\n\n©Photo Person\n\nhttps://example.org/a?b=c"
    )


# --- front matter --------------------------------------------------------------------------


FRONT = (
    "---\n"
    "headline: Mechanism opens office in Damascus\n"
    "language: en\n"
    "date: 2025-03-19\n"
    "embargo: 2025-04-16 09:00 Europe/Zurich\n"
    "contact: Jane Doe <jane.doe@example.org> +41 22 917 12 34\n"
    "contact: John Roe <john@example.org>\n"
    "end_marker: -ENDS-\n"
    "---\n"
)


def test_front_matter_overrides_the_text() -> None:
    text = FRONT + (
        "IIIM opens office\n\nGeneva, March 19 – The Mechanism opened an office.\n\n"
        "For media inquiries please contact: [email protected]\n"
    )
    release = parse_release(text)
    assert release.headline == "Mechanism opens office in Damascus"
    assert release.language == "en"
    assert release.dateline_place == "Geneva"
    assert release.dateline_date == datetime.date(2025, 3, 19)
    assert release.dateline_text == "Geneva, March 19"
    assert release.embargo_text == "2025-04-16 09:00 Europe/Zurich"
    assert release.end_marker == "-ENDS-"
    assert release.media_contacts == [
        MediaContact("Jane Doe", "jane.doe@example.org", "+41 22 917 12 34"),
        MediaContact("John Roe", "john@example.org", None),
    ]
    assert release.front_matter["contact"] == (
        "Jane Doe <jane.doe@example.org> +41 22 917 12 34\nJohn Roe <john@example.org>"
    )
    assert release.front_matter["language"] == "en"
    assert release.body == "The Mechanism opened an office."
    # The date and the contacts settle the text's doubts; the replaced line is reported.
    assert release.warnings == [
        "the front-matter headline replaces the first line 'IIIM opens office'"
    ]


def test_front_matter_dateline_and_place() -> None:
    text = "---\ndateline: GENEVA, 19 March 2025\nplace: Genève\n---\nHeadline\n\n" + BODY
    release = parse_release(text)
    assert release.dateline_text == "GENEVA, 19 March 2025"
    assert release.dateline_place == "Genève"
    assert release.dateline_date == datetime.date(2025, 3, 19)


def test_front_matter_alone_may_carry_the_headline() -> None:
    release = parse_release('---\nheadline: "Quoted: headline"\n---\n')
    assert release.headline == "Quoted: headline"
    assert release.body == ""
    assert "release has no body text" in release.warnings


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("headline: H\n\ncolour: blue\n", r"^front matter line 4: unknown key 'colour'"),
        ("Headline: H\n", r"^front matter line 2: unknown key 'Headline'"),
        ("headline: H\njust some words\n", r"^front matter line 3: expected 'key: value'"),
        ("date: 19 March 2025\n", r"^front matter line 2: date: expected a date as YYYY-MM-DD"),
        ("date: 2025-02-30\n", r"^front matter line 2: date: expected a date as YYYY-MM-DD"),
        ("language: English please\n", r"^front matter line 2: language: expected a language"),
        ("contact: Jane <jane@>\n", r"^front matter line 2: contact: 'jane@' is not a valid"),
        ("headline:\n", r"^front matter line 2: 'headline' has no value"),
        ("place: A\nplace: B\n", r"^front matter line 3: 'place' is given twice"),
        ("end_marker: " + "-" * 21 + "\n", r"^front matter line 2: 'end_marker' is longer than 20"),
    ],
)
def test_front_matter_mistakes_name_their_line(front: str, message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        parse_release(f"---\n{front}---\nHeadline\n\n{BODY}\n")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("Jane Doe <jane@example.org> +41 22 917 12 34",
         MediaContact("Jane Doe", "jane@example.org", "+41 22 917 12 34")),
        ("<press@example.org>", MediaContact(None, "press@example.org", None)),
        ("Jane Doe, jane@example.org", MediaContact("Jane Doe", "jane@example.org", None)),
    ],
)
def test_contact_spec_forms(spec: str, expected: MediaContact) -> None:
    release = parse_release(f"---\ncontact: {spec}\n---\nHeadline\n\n{BODY}\n")
    assert release.media_contacts == [expected]


def test_unclosed_front_matter_is_an_error() -> None:
    with pytest.raises(ReleaseError, match="no closing '---'"):
        parse_release(f"---\nheadline: H\n\nHeadline\n\n{BODY}\n")


def test_front_matter_comments_and_blank_lines_are_skipped() -> None:
    release = parse_release(f"---\n# set by the desk\n\nlanguage: fr-CH\n---\nTitre\n\n{BODY}\n")
    assert release.language == "fr-CH" and release.headline == "Titre"


# --- files ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(ReleaseError, match="^no such file: .*nope.txt$"):
        read_release_file(missing)


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(("Headline\n\n" + "line\n" * 4 + "Genève\n").encode("latin-1"))
    with pytest.raises(ReleaseError, match=r"latin1.txt is not UTF-8 \(line 7\)$"):
        read_release_file(path)


def test_non_utf8_line_number_counts_crlf_and_cr(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"Headline\r\n\r\nbody\rmore\r\n\xff\n")
    with pytest.raises(ReleaseError, match=r"\(line 5\)$"):
        read_release_file(path)


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffHeadline\n\nBody text.\n".encode())
    release = read_release_file(path)
    assert release.headline == "Headline"
    assert release.body == "Body text."


def test_bom_before_front_matter_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeff---\nlanguage: en\n---\nHeadline\n\nBody text.\n".encode())
    assert read_release_file(path).language == "en"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(tmp_path: Path, newline: str) -> None:
    source = (SAMPLES / SAMPLE_NAMES[0]).read_text(encoding="utf-8")
    path = tmp_path / "release.txt"
    path.write_bytes(source.replace("\n", newline).encode())
    assert read_release_file(path) == sample(1)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(ReleaseError, match="empty.txt: release has no headline$"):
        read_release_file(path)


def test_release_error_is_a_value_error_and_a_user_error() -> None:
    from distribution.errors import PressroomError

    assert issubclass(ReleaseError, ValueError) and issubclass(ReleaseError, PressroomError)


# --- any text ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "", " ", "Headline", "-ENDS-", "###", "About the IIIM", "Notes to editors",
                "Media contact: Jane Doe jane@example.org +41 22 917 12 34", "[email protected]",
                "Geneva, March 19 – Text.", "Geneva, 14 March 2025", "• item", "1. item",
                "“Quote.”", "©Credit", "EMBARGOED UNTIL 09:00 CET", "Plain sentence here.",
                "\t\u00a0spaced  out\t", "Short line",
            ]
        )
        | st.text(max_size=40),
        max_size=25,
    )
)
def test_any_text_parses_or_raises_release_error(lines: list[str]) -> None:
    try:
        release = parse_release("\n".join(lines))
    except ReleaseError:
        return
    assert_body_format(release.body)
    if release.boilerplate is not None:
        assert release.boilerplate
        assert_body_format(release.boilerplate)


# --- odd input ------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["-ENDS-\n", "\n\n  -ENDS-  \n", "###\n", "- 30 -\n"])
def test_a_file_holding_only_an_end_marker_is_refused(text: str) -> None:
    with pytest.raises(ReleaseError, match="no headline"):
        parse_release(text)


def test_control_characters_are_removed_with_a_warning() -> None:
    release = parse_release("Head\x00line\x1b[31m here\x7f\n\nBody\x07 text\x85 with \x0cpage."
                            "\n\n-ENDS-\n")
    assert release.headline == "Headline[31m here"
    fields = [release.headline, release.body or "", release.subheadline or ""]
    assert all(c == "\n" or c.isprintable() for f in fields for c in f)
    assert any("control character" in w for w in release.warnings)


@given(st.text(max_size=300))
@settings(max_examples=200)
def test_no_control_character_survives_parsing(text: str) -> None:
    try:
        release = parse_release("Headline\n\n" + text)
    except ReleaseError:
        return
    for value in (release.headline, release.subheadline, release.body, release.boilerplate,
                  release.end_marker, release.boilerplate_heading, release.embargo_text):
        assert value is None or not any(
            ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) <= 0x9F for c in value)


def test_a_release_past_the_documented_size_is_refused_in_one_line(tmp_path: Path) -> None:
    from distribution.releases.parse import MAX_RELEASE_BYTES

    big = tmp_path / "big.txt"
    big.write_text("Headline\n\n" + "word " * (MAX_RELEASE_BYTES // 5 + 1), "utf-8")
    with pytest.raises(ReleaseError, match="larger than a release may be") as raised:
        read_release_file(big)
    assert "\n" not in str(raised.value)
    with pytest.raises(ReleaseError, match="larger than a release may be"):
        parse_release(big.read_text("utf-8"))
