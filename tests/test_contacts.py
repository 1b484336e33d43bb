"""Importing contacts from CSV: what is kept, what is rejected and why, on both databases."""

from __future__ import annotations

import io

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from distribution.audience import contacts, lists
from distribution.audience import rows as contact_rows
from distribution.audience.contacts import all_contacts, import_contacts
from distribution.audience.lists import create_list, list_summary, subscribe
from distribution.audience.rows import AddressValidator, Unsendable, mailable_address
from distribution.errors import InvalidInput, NotFound
from distribution.store.db import transaction
from distribution.store.models import Contact, Subscription, SubscriptionStatus

HEADER = "email,name,outlet,beat,language,country,timezone\n"


def run_import(store, data: str | bytes, **options):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with transaction(store.Session) as s:
        return import_contacts(s, io.BytesIO(raw), **options)


def saved(store) -> dict[str, Contact]:
    with transaction(store.Session) as s:
        return {c.email: c for c in s.scalars(select(Contact))}


def subscription_statuses(store, list_name: str) -> dict[str, SubscriptionStatus]:
    with transaction(store.Session) as s:
        rows = s.execute(select(Contact.email, Subscription.status).join(Subscription)
                         .where(Subscription.list_id == lists.get_list(s, list_name).id))
        return dict(rows.all())


def test_a_file_of_contacts_is_imported_with_every_detail(store):
    report = run_import(store, HEADER
                        + "ana@example.com,Ana Ribeiro,Daily Courier,Justice,pt,PT,Europe/Lisbon\n"
                        + "sam@example.net,Sam Okafor,,,,,\n")
    assert (report.imported, report.updated, report.duplicates_merged, report.rejected) == (
        2, 0, 0, [])
    ana, sam = saved(store)["ana@example.com"], saved(store)["sam@example.net"]
    assert (ana.name, ana.outlet, ana.beat, ana.language, ana.country, ana.timezone) == (
        "Ana Ribeiro", "Daily Courier", "Justice", "pt", "PT", "Europe/Lisbon")
    assert (sam.name, sam.outlet, sam.language, sam.timezone) == ("Sam Okafor", None, None, None)


def test_bom_crlf_and_a_header_in_another_case_with_spaces(store):
    data = "\ufeff Email ,NAME , Outlet\r\nana@example.com,Ana,Courier\r\n".encode()
    report = run_import(store, data)
    assert (report.imported, report.rejected, report.warnings) == (1, [], [])
    assert saved(store)["ana@example.com"].outlet == "Courier"


def test_lines_ending_with_cr_alone_are_read_and_numbered(store):
    report = run_import(store, b'email,name\r"ana@example.com","Ana\rRibeiro"\rbob@,Bob\r')
    assert report.imported == 1
    assert [line for line, _ in report.rejected] == [4]
    assert saved(store)["ana@example.com"].name == "Ana Ribeiro"


def test_quoted_fields_keep_commas_and_a_quoted_newline_becomes_a_space(store):
    report = run_import(store, 'email,name,outlet\n'
                               'ana@example.com,"Ribeiro, Ana","Courier\nInternational"\n')
    assert report.imported == 1
    ana = saved(store)["ana@example.com"]
    assert (ana.name, ana.outlet) == ("Ribeiro, Ana", "Courier International")


def test_rejected_rows_name_the_line_they_start_on(store):
    data = ("email,name\n"              # line 1
            "\n"                        # 2: empty lines are skipped
            'ana@example.com,"Ana\n'    # 3: a row over two lines
            'Ribeiro"\n'                # 4
            "bob@,Bob\n"                # 5
            ",No Address\n"             # 6
            '"carl@example.com\n'       # 7: the address itself spans lines
            'x",Carl\n'                 # 8
            "dora@example.org,Dora\n")  # 9
    report = run_import(store, data)
    assert report.rejected == [
        (5, "invalid email 'bob@': There must be something after the @-sign."),
        (6, "missing email"),
        (7, "invalid email 'carl@example.com x': The part after the @-sign contains "
            "invalid characters: SPACE."),
    ]
    assert report.imported == 2
    assert set(saved(store)) == {"ana@example.com", "dora@example.org"}


def test_empty_lines_and_blank_rows_are_skipped(store):
    report = run_import(store, "\n\nemail,name\n\n,\n  ,  \nana@example.com,Ana\n\n")
    assert (report.imported, report.rejected) == (1, [])


def test_unknown_columns_give_one_warning_and_are_ignored(store):
    report = run_import(store, "email,Phone,name,Twitter,\nana@example.com,+41 22,Ana,@ana,\n")
    assert report.warnings == ["ignored unknown columns: Phone, Twitter"]
    assert saved(store)["ana@example.com"].name == "Ana"


def test_rows_longer_or_shorter_than_the_header_are_read(store):
    report = run_import(store, "email,name,outlet\nana@example.com\nbob@example.com,Bob,X,extra\n")
    assert (report.imported, report.rejected) == (2, [])
    assert saved(store)["bob@example.com"].outlet == "X"


@pytest.mark.parametrize(("data", "message"), [
    ("name,outlet\nAna,Courier\n", "the header row has no email column; expected columns: "
                                   "email, name, outlet, beat, language, country, timezone"),
    ("", "the file is empty: expected a header row with an email column"),
    ("\n\n", "the file is empty: expected a header row with an email column"),
    ("email,name,EMAIL\n", "the header names the column 'email' twice"),
])
def test_a_file_without_a_usable_header_is_refused_and_nothing_is_written(store, data, message):
    with pytest.raises(InvalidInput) as error:
        run_import(store, data)
    assert str(error.value).startswith(message)
    assert saved(store) == {}


def test_a_file_that_is_not_utf8_names_the_line_and_writes_nothing(store):
    data = "email,name\nana@example.com,Ana\nlea@example.org,Léa Müller\n".encode("latin-1")
    with pytest.raises(InvalidInput) as error:
        run_import(store, data)
    assert str(error.value).startswith("line 3 is not UTF-8 (byte 0xe9 at column 18)")
    assert saved(store) == {}


def test_duplicates_merge_on_the_case_folded_address_first_value_wins(store):
    report = run_import(store, "email,name,outlet,beat\n"
                               "Bob@Example.ORG,Bob,,\n"
                               "Bob@example.org,Robert,Courier,\n"
                               "bob@example.org,bob,,\n"
                               "Bob@EXAMPLE.org,,,Courts\n")
    # One person, one address: the first spelling is kept for display.
    assert (report.imported, report.duplicates_merged) == (1, 3)
    bob = saved(store)["Bob@example.org"]
    assert (bob.name, bob.outlet, bob.beat) == ("Bob", "Courier", "Courts")
    assert set(saved(store)) == {"Bob@example.org"}


def test_a_known_contact_in_another_spelling_is_updated_not_doubled(store):
    run_import(store, "email,name\nReporter@News.example.com,Rita\n")
    report = run_import(store, "email,outlet\nreporter@news.example.com,Daily\n")
    assert (report.imported, report.updated) == (0, 1)
    rita = saved(store)["Reporter@news.example.com"]
    assert (rita.name, rita.outlet) == ("Rita", "Daily")
    assert set(saved(store)) == {"Reporter@news.example.com"}


def test_an_international_domain_is_stored_as_sent_in_idna_and_merges_with_it(store):
    report = run_import(store, "email,name\nredaktion@Bücher.DE,A\nredaktion@xn--bcher-kva.de,\n"
                               "user@xn--exmple-cua.org,B\n")
    assert (report.imported, report.duplicates_merged, report.rejected) == (2, 1, [])
    assert set(saved(store)) == {"redaktion@xn--bcher-kva.de", "user@xn--exmple-cua.org"}


def test_a_non_ascii_local_part_is_refused_on_its_line_when_nothing_can_carry_it(store):
    asked = []
    report = run_import(store, "email,name\njosé@bücher.de,José\nana@example.org,Ana\n"
                               "zoë@example.org,Zoë\n",
                        smtputf8=lambda: asked.append(1) or "the relay does not offer SMTPUTF8")
    assert report.imported == 1 and asked == [1]  # asked once, for the whole file
    assert report.rejected == [
        (2, "cannot send to 'josé@bücher.de': the relay does not offer SMTPUTF8"),
        (4, "cannot send to 'zoë@example.org': the relay does not offer SMTPUTF8")]
    # Without anyone to ask, such an address is refused too.
    [(_, reason)] = run_import(store, "email\njosé@example.org\n").rejected
    assert "needs SMTPUTF8" in reason


def test_a_non_ascii_local_part_is_taken_when_the_transport_carries_it(store):
    report = run_import(store, "email,name\nJosé@Bücher.de,José\njosé@xn--bcher-kva.de,\n"
                               "ana@example.org,Ana\n", smtputf8=lambda: None)
    assert (report.imported, report.duplicates_merged, report.rejected) == (2, 1, [])
    # Stored in lower case, domain in IDNA: one person, whatever the spelling or database.
    assert set(saved(store)) == {"josé@xn--bcher-kva.de", "ana@example.org"}
    again = run_import(store, "email,name\nJOSÉ@BÜCHER.DE,José Pérez\n", smtputf8=lambda: None)
    assert (again.imported, again.updated) == (0, 1)


def test_timezones_are_checked_and_spelled_as_iana_does(store):
    report = run_import(store, "email,timezone\na@example.org,europe/zurich\n"
                               "b@example.org,Mars/Olympus\nc@example.org,UTC\n")
    assert report.rejected == []
    assert report.warnings == ["line 3: unknown timezone 'Mars/Olympus': use an IANA name such "
                               "as 'Europe/Zurich'; imported without it"]
    assert {e: c.timezone for e, c in saved(store).items()} == {
        "a@example.org": "Europe/Zurich", "b@example.org": None, "c@example.org": "UTC"}


def test_languages_are_short_codes_written_the_usual_way(store):
    report = run_import(store, "email,language\na@example.org,EN\nb@example.org,pt_br\n"
                               "c@example.org,English\nd@example.org,zh-hant-tw\n")
    assert report.rejected == []
    assert report.warnings[0].startswith("line 4: invalid language 'English'")
    assert {e: c.language for e, c in saved(store).items()} == {
        "a@example.org": "en", "b@example.org": "pt-BR", "c@example.org": None,
        "d@example.org": "zh-Hant-TW"}


@pytest.mark.parametrize("data", [
    "E-mail;First name;Last name;Organisation\nana@example.com;Ana;Ribeiro;Courier\n",
    "E-mail address\tFull name\tTime zone\nana@example.com\tAna Ribeiro\tEurope/Lisbon\n",
    '"Email Address","First Name","Last Name"\n"ana@example.com","Ana","Ribeiro"\n',
])
def test_semicolon_and_tab_files_and_common_header_names_are_read(store, data):
    report = run_import(store, data)
    assert (report.imported, report.rejected) == (1, [])
    assert saved(store)["ana@example.com"].name == "Ana Ribeiro"


def test_values_too_long_for_the_table_or_with_control_characters_are_rejected(store):
    long_name = "N" * 201
    report = run_import(store, f"email,name,country\na@example.org,{long_name},\n"
                               f"b@example.org,Bell\x07,\nc@example.org,,{'C' * 65}\n"
                               "d@example.org,Tab\tName,\n")
    assert report.rejected == [(2, "name is longer than 200 characters"),
                               (3, "the row contains a control character"),
                               (4, "country is longer than 64 characters")]
    assert saved(store)["d@example.org"].name == "Tab Name"


def test_importing_again_updates_without_duplicating(store):
    first = run_import(store, "email,name,outlet\nana@example.com,Ana,Courier\n"
                              "sam@example.net,Sam,Wire\n")
    again = run_import(store, "email,name,outlet\nana@example.com,,Daily Courier\n"
                              "sam@example.net,Sam,Wire\nlea@example.org,Léa,\n")
    assert (first.imported, first.updated) == (2, 0)
    # Sam's row changes nothing, so he is not counted as updated.
    assert (again.imported, again.updated) == (1, 1)
    everyone = saved(store)
    assert len(everyone) == 3
    assert (everyone["ana@example.com"].name, everyone["ana@example.com"].outlet) == (
        "Ana", "Daily Courier")


def test_a_list_import_subscribes_the_good_rows_but_not_who_unsubscribed(store):
    with transaction(store.Session) as s:
        press = create_list(s, "press", trusted=True)
        left = Contact(email="left@example.org")
        s.add(left)
        s.flush()
        s.add(Subscription(contact_id=left.id, list_id=press.id,
                           status=SubscriptionStatus.UNSUBSCRIBED))
    report = run_import(store, "email\nana@example.com\nleft@example.org\nbad@\n",
                        list_name="press")
    assert (report.imported, report.subscribed, len(report.rejected)) == (1, 1, 1)
    again = run_import(store, "email\nana@example.com\nleft@example.org\nnew@example.org\n",
                       list_name="press")
    assert (again.imported, again.updated, again.subscribed) == (1, 0, 1)
    assert subscription_statuses(store, "press") == {
        "ana@example.com": SubscriptionStatus.SUBSCRIBED,
        "left@example.org": SubscriptionStatus.UNSUBSCRIBED,
        "new@example.org": SubscriptionStatus.SUBSCRIBED,
    }
    with transaction(store.Session) as s:
        assert list_summary(s, "press").members == 2


def test_an_unknown_list_stops_the_import_before_anything_is_written(store):
    with pytest.raises(NotFound) as error:
        run_import(store, "email\nana@example.com\n", list_name="nope")
    assert str(error.value) == "no list named 'nope'"
    assert saved(store) == {}


def test_a_file_is_read_from_a_path_and_a_missing_one_is_not_found(store, tmp_path):
    path = tmp_path / "media.csv"
    path.write_bytes(b"email\r\nana@example.com\r\n")
    with transaction(store.Session) as s:
        assert import_contacts(s, path).imported == 1
        assert import_contacts(s, str(path)).imported == 0
        with pytest.raises(NotFound) as error:
            import_contacts(s, tmp_path / "nope.csv")
        with pytest.raises(InvalidInput):
            import_contacts(s, tmp_path)
    assert str(error.value) == f"no such file: {tmp_path / 'nope.csv'}"


def test_a_text_stream_is_read_too(store):
    with transaction(store.Session) as s:
        report = import_contacts(s, io.StringIO("\ufeffemail\nana@example.com\n"))
    assert report.imported == 1


def test_large_imports_work_across_chunks(store, monkeypatch):
    monkeypatch.setattr(lists, "CHUNK", 4)
    monkeypatch.setattr(contacts, "CHUNK", 4)
    rows = "".join(f"r{i}@example.org,Reporter {i}\n" for i in range(23))
    with transaction(store.Session) as s:
        create_list(s, "press")
    first = run_import(store, "email,name\n" + rows, list_name="press")
    renamed = rows.replace("Reporter 7\n", "Reporter Seven\n")
    again = run_import(store, "email,name\n" + renamed + "new@example.org,\n", list_name="press")
    assert (first.imported, first.subscribed) == (23, 23)
    assert (again.imported, again.updated, again.subscribed) == (1, 1, 1)
    with transaction(store.Session) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 24
        assert list_summary(s, "press").members == 24


def test_a_large_import_tells_the_postgresql_planner_how_big_the_tables_are(pg_store):
    """A send right after a large import plans its audience with the real table sizes,
    not those of the empty tables autovacuum would correct a minute later."""
    rows = "".join(f"r{i}@example.org,Reporter {i}\n" for i in range(1_500))
    with transaction(pg_store.Session) as s:
        create_list(s, "press")

    def planned_rows(table: str) -> float:
        with pg_store.engine.connect() as c:
            return c.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = %s", (table,)).scalar_one()

    before = planned_rows("contacts")
    run_import(pg_store, "email,name\n" + rows, list_name="press")
    assert before <= 0  # never analysed (-1), or empty
    assert planned_rows("contacts") == 1_500
    assert planned_rows("subscriptions") == 1_500
    small = run_import(pg_store, "email,name\nfew@example.org,Few\n", list_name="press")
    assert small.imported == 1
    assert planned_rows("contacts") == 1_500  # a small import leaves it to autovacuum


def test_progress_is_reported_in_bytes_read(sqlite_store, monkeypatch):
    monkeypatch.setattr(contact_rows, "PROGRESS_EVERY", 2)
    data = ("email\n" + "".join(f"r{i}@example.org\n" for i in range(5))).encode()
    seen: list[int] = []
    with transaction(sqlite_store.Session) as s:
        import_contacts(s, io.BytesIO(data), on_progress=seen.append)
    assert sum(seen) == len(data)


def test_all_contacts_show_their_lists_and_can_be_limited_to_one_list(store):
    with transaction(store.Session) as s:
        media, public = create_list(s, "media"), create_list(s, "public")
    run_import(store, "email,name,outlet\nb@example.org,B,Wire\na@example.org,A,\n"
                      "c@example.org,,\n", list_name="media")
    with transaction(store.Session) as s:
        ids = {c.email: c.id for c in s.scalars(select(Contact))}
        subscribe(s, [ids["a@example.org"], ids["c@example.org"]], public.id)
        s.execute(Subscription.__table__.update()
                  .where(Subscription.contact_id == ids["c@example.org"],
                         Subscription.list_id == media.id)
                  .values(status=SubscriptionStatus.UNSUBSCRIBED))
    with transaction(store.Session) as s:
        everyone = all_contacts(s)
        in_media = [c.email for c in all_contacts(s, list_name="media")]
        first = all_contacts(s, limit=1)
        with pytest.raises(NotFound):
            all_contacts(s, list_name="nope")
    assert [(c.email, c.name, c.outlet, c.lists) for c in everyone] == [
        ("a@example.org", "A", None, ["media", "public"]),
        ("b@example.org", "B", "Wire", ["media"]),
        ("c@example.org", None, None, ["public"]),
    ]
    assert in_media == ["a@example.org", "b@example.org"]
    assert [c.email for c in first] == ["a@example.org"]


def test_deliverability_is_checked_once_per_domain_when_asked(sqlite_store, monkeypatch):
    asked: list[tuple[str, bool]] = []

    def recording_validate(address, **options):
        asked.append((address, options["check_deliverability"]))
        return validate_email(address, check_deliverability=False)  # no DNS in tests

    monkeypatch.setattr(contact_rows, "validate_email", recording_validate)
    monkeypatch.setattr(contact_rows, "caching_resolver", lambda: None)
    report = run_import(sqlite_store, "email\na@example.org\nb@example.org\nc@example.net\n",
                        check_deliverability=True)
    assert report.imported == 3
    assert asked == [("x@example.org", True), ("x@example.net", True)]


# The fast path of AddressValidator must say exactly what validate_email says.
LOCAL_PARTS = st.one_of(
    st.from_regex(r"[A-Za-z0-9._%+'=-]{1,70}", fullmatch=True),
    st.sampled_from(["Postmaster", "INFO", "ab..cd", ".x", "x.", '"quoted"', "jo sé", "josé",
                     "a@b", "x" * 64, "x" * 65, "x" * 240, ""]),
)
DOMAINS = st.sampled_from([
    "example.org", "EXAMPLE.ORG", "Bücher.de", "xn--bcher-kva.de", "münchen.DE", "localhost",
    "example", "ex..com", "-bad.com", "bad-.com", "123.456", "test.invalid", "a.onion",
    "[127.0.0.1]", "exa mple.com", "", "ÉCOLE.fr", "ﬁle.com", "ex_ample.com",
    "a" * 63 + ".com", "a" * 64 + ".com", ("b" * 60 + ".") * 4 + "com", "xn--zz.com",
    "ex.com.", "exam\u200dple.com", "例え.テスト",
])
VALIDATOR = AddressValidator()
SMTPUTF8_VALIDATOR = AddressValidator(smtputf8=lambda: None)  # a transport that carries it


def verdict(check, address: str) -> tuple[str, str]:
    try:
        return "valid", check(address)
    except EmailNotValidError as exc:
        return "invalid", str(exc)
    except Unsendable as exc:
        return "unsendable", str(exc)


@settings(max_examples=400, deadline=None)
@given(LOCAL_PARTS, DOMAINS)
def test_the_address_validator_agrees_with_email_validator(local, domain):
    address = f"{local}@{domain}"
    expected = verdict(mailable_address, address)
    assert verdict(VALIDATOR.normalize, address) == expected
    carried = verdict(lambda a: mailable_address(a, lambda: None), address)
    assert verdict(SMTPUTF8_VALIDATOR.normalize, address) == carried
