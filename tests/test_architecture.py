"""The layout's rules, read from the imports: faces -> domain -> store and transport.

A newcomer finds the room for a change by its package; these tests keep the arrows
pointing one way, so that a room can be read (and tested) without the ones above it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "distribution"

FACES = ("distribution.web", "distribution.cli", "workers")
DOMAIN = ("releases", "audience", "mail", "media", "engine", "embargo", "transport", "store",
          "deliverability")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules(package: str) -> list[Path]:
    folder = PACKAGE / package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [folder.with_suffix(".py")]


def _violations(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for package in packages:
        for path in _modules(package):
            for name in sorted(_imports(path)):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    bad.append(f"{_module_name(path)} imports {name}")
    return bad


def _top_level_modules() -> tuple[str, ...]:
    return tuple(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def test_the_domain_never_imports_a_face():
    assert _violations(DOMAIN + _top_level_modules(), FACES) == []


def test_rendering_imports_no_transport_engine_or_database_session():
    forbidden = ("distribution.transport", "distribution.engine", "distribution.store.db")
    assert _violations(("mail",), forbidden) == []


def test_the_transport_knows_nothing_of_releases_audiences_or_the_store():
    forbidden = tuple(f"distribution.{p}" for p in DOMAIN if p != "transport")
    assert _violations(("transport",), forbidden) == []


def test_the_store_and_the_parser_stand_on_their_own():
    others = tuple(f"distribution.{p}" for p in DOMAIN)
    assert _violations(("store",), tuple(o for o in others if o != "distribution.store")) == []
    assert _violations(("releases",), tuple(
        o for o in others if o not in ("distribution.releases", "distribution.store"))) == []


def test_the_package_root_holds_only_a_handful_of_modules():
    assert len(_top_level_modules()) <= 5, _top_level_modules()


def test_no_package_hides_its_architecture_in_a_crowd_of_modules():
    crowded = {folder.name: n for folder in PACKAGE.iterdir() if folder.is_dir()
               if (n := len(list(folder.glob("*.py")))) > 13}
    assert crowded == {}


@pytest.mark.parametrize("module", ["distribution.cli.audience.mailed",
                                    "distribution.cli.sending.bounces"])
def test_what_an_mta_runs_per_mail_loads_no_web_server(module):
    """`pressroom unsubscribe-mail` runs once per incoming mail: no Starlette, no uvicorn."""
    code = ("import sys, importlib; importlib.import_module(sys.argv[1]); "
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'starlette', 'uvicorn', 'multipart', 'celery'}))")
    out = subprocess.run([sys.executable, "-c", code, module], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("module", ["distribution.cli.sending.send",
                                    "distribution.engine.messages", "workers.tasks"])
def test_sending_does_not_load_the_release_parser(module):
    """`send` and every batch start faster without it: its dateline patterns alone take a
    tenth of a second to compile, on a machine busy writing the delivery rows."""
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, {module}; "
                               "print('distribution.releases.parse' in sys.modules)"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "False"


def test_send_loads_no_broker_client_before_its_rows_are_written():
    """Redis's and Celery's modules load in a thread while PostgreSQL writes the rows
    (cli.sending.checking): importing them first held up every send."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, distribution.cli.sending.send; "
                               "print(sorted({m.split('.')[0] for m in sys.modules}"
                               " & {'redis', 'celery', 'kombu'}))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
