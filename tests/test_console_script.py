"""The installed `pressroom` script: what it prints reaches the pipe, its exit code is kept,
though it leaves without tearing the interpreter down."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.environment import inherited

SCRIPT = Path(sys.executable).with_name("pressroom")


def _pressroom(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Buffered as a user's pipe is, whatever this run's environment says.
    env = {k: v for k, v in inherited().items() if k != "PYTHONUNBUFFERED"}
    env.update(PRESSROOM_HOME=str(tmp_path / "home"),
               PRESSROOM_DATABASE_URL=f"sqlite:///{tmp_path / 'pressroom.db'}")
    return subprocess.run([str(SCRIPT), *args], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture
def initialised(tmp_path: Path) -> Path:
    if not SCRIPT.exists():
        pytest.skip("the pressroom script is not installed beside this Python")
    assert _pressroom(tmp_path, "init").returncode == 0
    return tmp_path


def test_output_reaches_a_pipe_and_success_exits_0(initialised):
    result = _pressroom(initialised, "config", "--json")
    assert result.returncode == 0, result.stderr
    assert '"database_url"' in result.stdout and result.stdout.rstrip().endswith("}")


def test_bytes_written_without_a_flush_reach_the_pipe(initialised):
    # `release preview` writes the part's bytes without a flush of its own; a short text
    # part stays in the pipe's buffer (4 KB) until the exit flushes it.
    release = initialised / "short.txt"
    release.write_text("Short Notice\n\nGeneva, May 2, 2025 – The office opens at nine.\n\n"
                       "-ENDS-\n", "utf-8")
    assert _pressroom(initialised, "release", "add", str(release)).returncode == 0
    result = _pressroom(initialised, "release", "preview", "1", "--text")
    assert result.returncode == 0, result.stderr
    assert "The office opens at nine." in result.stdout
    assert len(result.stdout.encode()) < 4096


def test_a_users_mistake_exits_1_with_one_line(initialised):
    result = _pressroom(initialised, "status", "99")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["Error: no distribution with id 99"]
    assert result.stdout == ""


def test_a_usage_error_exits_2(initialised):
    result = _pressroom(initialised, "send")
    assert result.returncode == 2
    assert "Missing argument" in result.stderr
