"""`release edit` opens the draft in $EDITOR and saves it back after the checks of `add`;
`release delete` removes a draft after asking; sent releases are neither edited nor deleted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

RELEASE = """FOR IMMEDIATE RELEASE

Foundation opens its Geneva office

A new home for the archive

GENEVA, 3 March 2025 – The Foundation today opened an office.

It has three rooms.

###

Media contact: Jane Doe <jane@example.org> +41 22 000 00 00

About the Foundation

The Foundation keeps records.
"""


def _editor(tmp_path: Path, old: str, new: str) -> str:
    """An $EDITOR that replaces `old` with `new` in the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "path = pathlib.Path(sys.argv[1])\n"
        f"path.write_text(path.read_text(encoding='utf-8').replace({old!r}, {new!r}), "
        "encoding='utf-8')\n", encoding="utf-8")
    return f"{sys.executable} {script}"


def _add(cli, tmp_path: Path, text: str = RELEASE) -> int:
    path = tmp_path / "release.txt"
    path.write_text(text, encoding="utf-8")
    return cli.json("release", "add", str(path))["id"]


def _with_editor(cli, editor: str):
    cli.env["EDITOR"] = editor
    cli.env["VISUAL"] = ""
    return cli


def test_an_edited_draft_is_saved_under_the_same_id(cli, tmp_path):
    release_id = _add(cli, tmp_path)
    before = cli.json("release", "show", str(release_id))
    _with_editor(cli, _editor(tmp_path, "It has three rooms.", "It has four rooms."))
    result = cli("release", "edit", str(release_id))
    assert result.exit_code == 0, result.output
    assert f"Release {release_id} saved" in result.stdout
    after = cli.json("release", "show", str(release_id))
    assert "It has four rooms." in after["body"]
    for key in ("headline", "subheadline", "dateline_place", "dateline_date", "dateline_text",
                "end_marker", "media_contacts", "boilerplate_heading", "boilerplate",
                "language"):
        assert after[key] == before[key], key


def test_an_unchanged_edit_changes_nothing(cli, tmp_path):
    release_id = _add(cli, tmp_path)
    _with_editor(cli, _editor(tmp_path, "no such text", "x"))
    result = cli("release", "edit", str(release_id))
    assert result.exit_code == 0 and "No changes" in result.output


def test_an_edit_with_an_unreadable_embargo_is_refused_and_kept(cli, tmp_path):
    release_id = _add(cli, tmp_path)
    _with_editor(cli, _editor(tmp_path, "---\nFoundation opens",
                              "---\nEMBARGOED UNTIL THE MINISTER SPEAKS 9\n\nFoundation opens"))
    result = cli("release", "edit", str(release_id))
    assert result.exit_code == 1
    assert "--embargo WHEN or --no-embargo" in result.output
    kept = Path(result.output.split("your text is in ")[1].split(")")[0])
    assert "THE MINISTER SPEAKS" in kept.read_text(encoding="utf-8")
    assert kept.stat().st_mode & 0o777 == 0o600
    kept.unlink()
    assert cli.json("release", "show", str(release_id))["embargo_until"] is None


def test_a_draft_is_deleted_after_confirmation(cli, tmp_path):
    release_id = _add(cli, tmp_path)
    refused = cli("release", "delete", str(release_id), input="n\n")
    assert refused.exit_code == 1
    assert len(cli.json("release", "list")) == 1
    done = cli("release", "delete", str(release_id), input="y\n")
    assert done.exit_code == 0 and f"Release {release_id} deleted." in done.output
    assert cli.json("release", "list") == []
    assert cli("release", "delete", str(release_id), "--yes").exit_code == 1


@pytest.mark.parametrize("command", [("delete", "--yes"), ("edit",)])
def test_a_sent_release_is_neither_edited_nor_deleted(cli, tmp_path, command):
    release_id = _add(cli, tmp_path)
    media = tmp_path / "media.csv"
    media.write_text("email,name\nana@example.com,Ana\n", encoding="utf-8")
    assert cli("lists", "create", "media", "--trusted").exit_code == 0
    assert cli("contacts", "import", str(media), "--list", "media").exit_code == 0
    sent = cli("send", str(release_id), "--list", "media", "--yes", "--wait")
    assert sent.exit_code == 0, sent.output
    result = cli("release", command[0], str(release_id), *command[1:])
    assert result.exit_code == 1
    assert "corrected" in result.output and "withdrawn" in result.output
    assert len(cli.json("release", "list")) == 1
