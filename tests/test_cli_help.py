"""`pressroom --help` lists commands without importing them: its lines must stay true."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

import click
import pytest

from distribution.cli import COMMANDS, main
from distribution.cli.releases.release import release


def _lazy_entries():
    for group in (main, release):
        for name, entry in group.lazy.items():
            yield pytest.param(entry, id=f"{group.name} {name}")


@pytest.mark.parametrize("entry", list(_lazy_entries()))
def test_each_listed_summary_is_the_commands_own_first_line(entry):
    module, _, attribute = entry.target.partition(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    first_line = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
    assert entry.summary == first_line


def test_help_lists_every_command_and_imports_none_of_them():
    code = ("import sys\nfrom click.testing import CliRunner\nfrom distribution.cli import main\n"
            "out = CliRunner().invoke(main, ['--help']).output\n"
            "print(out)\nprint(sorted(m for m in sys.modules if m.startswith('sqlalchemy'))[:1])")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    for name in COMMANDS:
        assert f"  {name} " in shown
    assert shown.rstrip().endswith("[]")  # no database layer loaded to print the help
