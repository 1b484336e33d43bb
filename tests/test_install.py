"""The package as a user gets it: built, installed into a fresh venv, run from elsewhere."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel built from this tree (dependencies from the index)."""
    base = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(base / "dist"), str(ROOT)], check=True)
    wheel = next((base / "dist").glob("pressroom-*.whl"))
    venv.create(base / "venv", with_pip=True)
    python = base / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel)], check=True)
    return base / "venv" / "bin"


@pytest.mark.slow
def test_wheel_ships_templates_and_demo_runs_from_another_folder(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSROOM_")}
    env["PRESSROOM_HOME"] = str(tmp_path / "home")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([str(installed / "pressroom"), "demo"], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outbox = tmp_path / "home" / "demo" / "outbox"
    assert str(outbox) in result.stdout
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 6
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert "-ENDS-" in message.get_body(("plain",)).get_content()


@pytest.mark.slow
def test_installed_cli_errors_are_one_line(installed, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSROOM_")}
    env["PRESSROOM_HOME"] = str(tmp_path / "home")
    subprocess.run([str(installed / "pressroom"), "init"], env=env, check=True,
                   capture_output=True)
    result = subprocess.run([str(installed / "pressroom"), "release", "add", "nope.txt"],
                            cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no such file: nope.txt"
