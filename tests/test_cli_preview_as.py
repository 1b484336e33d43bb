"""`release preview --as ADDRESS` / `--public` and `send --test-to --as`: the copy a given
reader gets, embargo-marked only where their list is trusted, with their list's footer."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

DAMASCUS = Path(__file__).parent / "data" / "releases" / "01-iiim-head-concludes-damascus-visit.txt"
EMBARGO = "2099-04-16 09:00 Europe/Zurich"


def _setup(cli, tmp_path: Path) -> int:
    media = tmp_path / "media.csv"
    media.write_text("email,name,timezone\nana@example.com,Ana Ribeiro,America/New_York\n",
                     encoding="utf-8")
    public = tmp_path / "public.csv"
    public.write_text("email,name\nreader@example.org,Reader\n", encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("lists", "create", "public").exit_code == 0
    assert cli("contacts", "import", str(media), "--list", "media").exit_code == 0
    assert cli("contacts", "import", str(public), "--list", "public").exit_code == 0
    return cli.json("release", "add", str(DAMASCUS), "--embargo", EMBARGO)["id"]


def test_a_trusted_contact_sees_the_marked_copy_in_their_zone(cli, tmp_path):
    release_id = _setup(cli, tmp_path)
    result = cli("release", "preview", str(release_id), "--as", "ana@example.com")
    assert result.exit_code == 0, result.output
    assert "STRICTLY EMBARGOED UNTIL 09:00 CEST, 16 April 2099" in result.stdout
    assert "in America/New_York" in result.stdout  # her own zone as well
    assert "The copy of ana@example.com, on media (trusted)." in result.stderr


def test_a_public_subscriber_sees_the_unmarked_copy(cli, tmp_path):
    release_id = _setup(cli, tmp_path)
    for flags in (("--as", "reader@example.org"), ("--public",)):
        result = cli("release", "preview", str(release_id), *flags)
        assert result.exit_code == 0, result.output
        assert "EMBARGOED" not in result.stdout
        assert "-ENDS-" in result.stdout


def test_preview_as_an_unknown_address_or_both_flags_is_refused(cli, tmp_path):
    release_id = _setup(cli, tmp_path)
    unknown = cli("release", "preview", str(release_id), "--as", "nobody@example.net")
    assert unknown.exit_code == 1 and "no contact with the address" in unknown.output
    both = cli("release", "preview", str(release_id), "--as", "ana@example.com", "--public")
    assert both.exit_code == 1 and "give one" in both.output


def test_a_test_copy_as_a_public_reader_is_unmarked_and_its_links_unsubscribe_nobody(
        cli, tmp_path):
    release_id = _setup(cli, tmp_path)
    result = cli("send", str(release_id), "--test-to", "officer@example.org",
                 "--as", "reader@example.org")
    assert result.exit_code == 0, result.output
    (sent,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "officer@example.org"
    assert "EMBARGOED" not in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "EMBARGOED" not in text
    marked = cli("send", str(release_id), "--test-to", "officer@example.org",
                 "--as", "ana@example.com")
    assert marked.exit_code == 0, marked.output


def test_as_without_test_to_is_refused(cli, tmp_path):
    release_id = _setup(cli, tmp_path)
    result = cli("send", str(release_id), "--list", "media", "--as", "ana@example.com")
    assert result.exit_code == 1 and "--test-to" in result.output
