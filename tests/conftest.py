import pytest
from hypothesis import settings

# No per-example deadline: on a shared two-core machine running three test processes, an
# example's time measures the machine's load, not the code (properties, not speed, are
# what these tests check; the benchmarks measure speed).
settings.register_profile("pressroom", deadline=None)
settings.load_profile("pressroom")

pytest_plugins = [
    "tests.fixtures.stores",
    "tests.fixtures.settings",
    "tests.fixtures.smtpd",
    "tests.fixtures.cli",
    "tests.fixtures.services",
    "tests.fixtures.dnsserver",
    "tests.fixtures.imapserver",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`): tests that run real worker processes, real
    time waits or Chromium go to one xdist worker each kind, one after another. Side by
    side on a small machine they would starve each other's processes and time out; the
    many short tests share the other workers."""
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group("processes"))
        elif item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
