"""Settings: defaults, then a TOML file, then PRESSROOM_* variables."""

from __future__ import annotations

import re

import pytest

from config import ConfigError, load_settings


def test_defaults_use_the_data_directory(tmp_path):
    settings = load_settings(environ={"PRESSROOM_HOME": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'pressroom.db'}"
    assert settings.outbox == str(tmp_path / "outbox")
    assert settings.broker_url == "" and settings.smtp_url == ""
    assert settings.batch_size == 500


def test_secret_key_is_made_once_and_kept(tmp_path):
    first = load_settings(environ={"PRESSROOM_HOME": str(tmp_path)}).secret_key
    again = load_settings(environ={"PRESSROOM_HOME": str(tmp_path)}).secret_key
    assert first == again and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_file_overrides_defaults_and_environment_overrides_file(tmp_path):
    path = tmp_path / "pressroom.toml"
    path.write_text('org_name = "IIIM"\nbatch_size = 200\nfrom = "IIIM <press@iiim.org>"\n'
                    'timezone = "Europe/Zurich"\n', encoding="utf-8")
    env = {"PRESSROOM_HOME": str(tmp_path), "PRESSROOM_CONFIG": str(path),
           "PRESSROOM_BATCH_SIZE": "50"}
    settings = load_settings(environ=env)
    assert settings.org_name == "IIIM"
    assert settings.batch_size == 50
    assert settings.from_addr == "IIIM <press@iiim.org>"
    assert settings.sender_domain == "iiim.org"
    assert settings.unsubscribe_mailto == "unsubscribe@iiim.org"


@pytest.mark.parametrize(("content", "message"), [
    ("nonsense = 1\n", "unknown setting 'nonsense'"),
    ("org_name = \n", "not valid TOML"),
    ("batch_size = 'many'\n", "must be a number"),
    ("claim_timeout_seconds = 1e20\n", "'claim_timeout_seconds' must be a whole number"),
    ("batch_size = inf\n", "must be a whole number"),
    ("commit_every = 500.5\n", "'commit_every' must be a whole number, not 500.5"),
    ("batch_size = true\n", "'batch_size' must be a whole number, not True"),
    ("rate_limit = nan\n", "'rate_limit' must be at least"),
    ("retry_max_seconds = 99999999999999999\n", "must be at most"),
    ("timezone = 'Europe/Zurch'\n", "setting 'timezone'"),
    ("complaint_rate_warning = 3\n", "'complaint_rate_warning' must be at most 1"),
    ("bounce_rate_warning = -0.02\n", "'bounce_rate_warning' must be at least 0"),
    ("bounce_rate_warning = nan\n", "'bounce_rate_warning' must be at least 0"),
    ("complaint_rate_warning = '0.3%'\n", "must be a number"),
    ("from = 'Press <press@example.org>, Other <leak@evil.example>'\n", "setting 'from'"),
    ("from = \"Press\\r\\nBcc: leak@evil.example <press@example.org>\"\n", "setting 'from'"),
])
def test_bad_config_files_are_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={"PRESSROOM_HOME": str(tmp_path)})


def test_missing_config_file_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={"PRESSROOM_HOME": str(tmp_path)})


def test_cli_reports_a_bad_config_in_one_line(cli, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("nonsense = 1\n", encoding="utf-8")
    result = cli("--config", str(path), "config")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: config file {path}: unknown setting 'nonsense'"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://u@db.example.org/press?password=s3cret&sslmode=require",
     "postgresql://u@db.example.org/press?password=********&sslmode=require"),
    ("redis://cache.example.org:6379/0?Password=s3cret",
     "redis://cache.example.org:6379/0?Password=********"),
    ("postgresql://u:s3cret@db/press?sslpassword=s3cret",
     "postgresql://u:********@db/press?sslpassword=********"),
    ("smtp://mail.example.org:587", "smtp://mail.example.org:587"),
])
def test_passwords_in_url_query_parameters_are_masked(tmp_path, url, shown):
    settings = load_settings(environ={"PRESSROOM_HOME": str(tmp_path),
                                      "PRESSROOM_BROKER_URL": url})
    assert settings.masked()["broker_url"] == shown


@pytest.mark.parametrize("url", [
    "notaurl", "amqp://guest:guest@127.0.0.1:5672//", "memory://", "127.0.0.1:6379",
    "redis://u:s3cret@localhost:abc/0", "redis://h:99999/0", "redis://h\nERR: x",
    " redis://localhost:6379", "redis:x", "redis://u:s3cret@[::1]:6391/x",
    "redis://127.0.0.1:6379/0?password=s3cret", "redis://u:s3cret/x@127.0.0.1:1/0",
    "redis://u:s3cret#frag@h/0", "redis://[::1", "amqp://[::1", "REDIS://localhost:6379",
    "redis://" + "a" * 3000, "redis://" + "a" * 70 + ".example.org:6379/0"])
def test_a_broker_url_redis_cannot_use_is_refused_in_one_line(cli, url):
    """Taken for a broker that is down, such a URL let sends be recorded that no worker
    would ever see (and the batch journals need Redis too); workers and `doctor` gave
    tracebacks, some with the password in them."""
    cli.env["PRESSROOM_BROKER_URL"] = url
    for command in (["status"], ["config"], ["doctor"]):
        result = cli(*command)
        assert result.exit_code == 1, (command, result.output)
        error = result.stderr.strip()
        assert error.startswith("Error: setting 'broker_url': ") and "\n" not in error
        assert "s3cret" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "redis://[::1]:6379",
                                 "rediss://:p%2Fw@cache.example.org:6380/2",
                                 "redis://localhost?socket_timeout=5"])
def test_redis_urls_are_taken(url):
    from config.urls import broker_url_problem

    assert broker_url_problem(url) is None


@pytest.mark.parametrize(("url", "why"), [
    ("https://example.org/" + "a" * 1000, "longer than 400 characters"),
    ("https://example.org/x\r\nBcc: a@b", "holds spaces or control characters"),
    ("ftp://press.example.org", "not an address such as https://press.example.org"),
    ("https://", "not an address such as https://press.example.org"),
    ("https://press.example.org/?a=1", "has a '?' or '#' part"),
])
def test_a_base_url_links_cannot_be_made_from_is_refused(tmp_path, url, why):
    """A long one failed every copy of a send for good, one row at a time, and gave a
    traceback with --test-to."""
    with pytest.raises(ConfigError, match=re.escape(f"setting 'base_url': {why}")):
        load_settings(environ={"PRESSROOM_HOME": str(tmp_path), "PRESSROOM_BASE_URL": url})
