pytest_plugins = [
    "tests.fixtures.stores",
    "tests.fixtures.settings",
    "tests.fixtures.smtpd",
    "tests.fixtures.cli",
    "tests.fixtures.services",
    "tests.fixtures.dnsserver",
]
