"""What SpamAssassin's local rules make of the mail people receive (`spamassassin -L -t`).

Real releases are added and sent through the CLI to the aiosmtpd server, with and without
DKIM signing; each copy, as the journalist's mailbox holds it (a Return-Path added by the
delivering server), is scored once. No network tests run, so no DNS blocklist or DKIM key
lookup: the scores are those of the message itself.

Measured when this test was written (SpamAssassin 4.0.1, Debian's rules), DKIM or not:
every release copy and notice -1.0 (MAILING_LIST_MULTI -1, HTML_MESSAGE, NO_RECEIVED and
NO_RELAYS 0.0); the Arabic embargoed copy -0.5, because SUBJ_ALL_CAPS (0.5) reads a subject
whose only Latin letters are capitals as shouting, and the embargo marking names the zone
("CEST", "UTC+03:00") in Latin letters; the confirmation mail 0.0 (it is no list mail).
Before the HTML was changed, the Arabic copies scored -0.4 and +0.1: HTML_OBFUSCATE_05_10
(0.6) counted tags between a letter and a non-ASCII mark (</bdi>، or «<bdi>) as words split
to hide them, and a <br> between two lines of the address.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config import Settings, load_settings
from distribution.cli import main
from distribution.mail import tokens
from distribution.web.pages import Pages
from distribution.web.subscribers.confirm_mail import send_confirmation
from tests.fixtures.environment import environment
from tests.fixtures.smtpd import Received, SmtpTestServer

DATA = Path(__file__).parent / "data"
ENGLISH = DATA / "releases" / "01-iiim-head-concludes-damascus-visit.txt"
ARABIC = DATA / "versions" / "damascus-ar.txt"

# The highest score each kind of message may get: what it scored when this was written.
BOUNDS = {
    "release (en)": -1.0,
    "release (ar)": -1.0,
    "embargoed copy (en)": -1.0,
    "embargoed copy (ar)": -0.5,   # SUBJ_ALL_CAPS: the zone in Latin capitals, see above
    "notice (en)": -1.0,
    "confirmation": 0.0,
}
# Who receives which kind: a trusted list gets embargoed copies, then the lift's notice;
# the public list gets the release at the lift; each in their language.
TRUSTED = {"sam@example.org": "en", "rania@example.com": "ar"}
PUBLIC = {"pub@example.net": "en", "pubar@example.net": "ar"}
NEWCOMER = "new@example.org"


@pytest.fixture
def spamassassin(tmp_path: Path) -> list[str]:
    """The command, with a home of its own: no Bayes database, no learning, no user prefs."""
    binary = shutil.which("spamassassin")
    if binary is None:
        if os.environ.get("PRESSROOM_TEST_REQUIRE_SPAMASSASSIN"):
            pytest.fail("spamassassin is required (PRESSROOM_TEST_REQUIRE_SPAMASSASSIN) "
                        "but missing")
        pytest.skip("spamassassin is not installed (apt-get install spamassassin)")
    home = tmp_path / "spamassassin"
    home.mkdir()
    prefs = home / "user_prefs"
    prefs.write_text("use_bayes 0\nbayes_auto_learn 0\n", encoding="ascii")
    return [binary, "-L", "-t", "-x", "-p", str(prefs),
            "--cf", "add_header all Tests _TESTSSCORES(,)_"]


def scores(command: list[str], messages: dict[str, bytes], folder: Path,
           home: Path) -> dict[str, tuple[float, str]]:
    """(score, the rules that hit with their points) of each message, in one run."""
    folder.mkdir()
    paths = []
    for i, data in enumerate(messages.values()):
        paths.append(folder / f"{i}.eml")
        paths[-1].write_bytes(data)
    done = subprocess.run([*command, *map(str, paths)], capture_output=True, check=False,
                          env={"HOME": str(home), "PATH": os.environ.get("PATH", "")},
                          timeout=300)
    output = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", output)
    found = [(float(score), tests) for score, tests in zip(
        re.findall(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", unfolded, re.M),
        [t.strip() for t in re.findall(r"^X-Spam-Tests: (.*)$", unfolded, re.M)], strict=True)]
    assert len(found) == len(messages), output[-2000:]
    return dict(zip(messages, found, strict=True))


def _dkim_settings(tmp_path: Path) -> dict[str, str]:
    """A 2048-bit RSA key, as tests/test_dkim.py signs with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return {"dkim_selector": "press2026", "dkim_domain": "iiim.example.org",
            "dkim_private_key_file": str(path)}


def _sent_everything(tmp_path: Path, database_url: str, smtp_server: SmtpTestServer,
                     signing: dict[str, str]) -> Settings:
    """Through the CLI: an English release with its Arabic version, embargoed, sent to a
    trusted and a public list, then lifted; and a sign-up's confirmation mail."""
    env = environment(tmp_path / "home", database_url=database_url,
                      smtp_url=smtp_server.url, bounce_address="bounces@iiim.example.org",
                      **signing)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    for name, people in (("media", TRUSTED), ("subscribers", PUBLIC)):
        rows = "".join(f"{address},{address.split('@')[0].title()},{language}\n"
                       for address, language in people.items())
        (tmp_path / f"{name}.csv").write_text(f"email,name,language\n{rows}", encoding="utf-8")
        run("lists", "create", name, *(["--trusted"] if people is TRUSTED else []))
        run("contacts", "import", str(tmp_path / f"{name}.csv"), "--list", name)
    run("release", "add", str(ENGLISH), "--embargo", "2099-04-16 09:00 Europe/Zurich")
    run("release", "add", str(ARABIC), "--version-of", "1")
    run("send", "1", "--list", "media", "--list", "subscribers", "--yes")
    run("release", "embargo", "1", "--lift", "--yes")
    settings = load_settings(environ=env)
    assert send_confirmation(settings, Pages(settings), NEWCOMER, "subscribers",
                             tokens.SignupRequest(1, 2), datetime.now(UTC), 7)
    return settings


def _kinds(received: list[Received]) -> dict[str, bytes]:
    """Each kind of message once, as the mailbox keeps it (Return-Path added on delivery):
    a trusted reader's first message is the embargoed copy, the next the lift's notice."""
    found: dict[str, bytes] = {}
    for message in received:
        to = message.rcpt_tos[0]
        if to == NEWCOMER:
            kind = "confirmation"
        elif to in PUBLIC:
            kind = f"release ({PUBLIC[to]})"
        elif f"embargoed copy ({TRUSTED[to]})" not in found:
            kind = f"embargoed copy ({TRUSTED[to]})"
        else:
            kind = f"notice ({TRUSTED[to]})"
        found[kind] = b"Return-Path: <%s>\r\n" % message.mail_from.encode() + message.data
    found.pop("notice (ar)")  # one notice is enough: they differ only in their language
    assert set(found) == set(BOUNDS), sorted(found)
    return found


def _strictly_parsed(data: bytes) -> None:
    """Every header and part read with email.policy.strict, which raises on any defect."""
    message = email.message_from_bytes(data, policy=email.policy.strict)
    for part in message.walk():
        for name in part:
            str(part[name])
        if not part.is_multipart():
            part.get_content()


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "dkim"])
def test_every_kind_of_mail_scores_no_worse_than_measured(
        tmp_path, sqlite_store, smtp_server, spamassassin, signed):
    signing = _dkim_settings(tmp_path) if signed else {}
    _sent_everything(tmp_path, sqlite_store.url, smtp_server, signing)
    messages = _kinds(smtp_server.messages)
    for data in messages.values():
        _strictly_parsed(data)
        assert (b"DKIM-Signature:" in data) == signed
    scored = scores(spamassassin, messages, tmp_path / "scored", tmp_path / "spamassassin")
    worse = [f"{kind}: {score} > {BOUNDS[kind]} ({tests})"
             for kind, (score, tests) in scored.items() if score > BOUNDS[kind]]
    assert not worse, "\n".join(worse)
