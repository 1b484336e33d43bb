"""The `pressroom` command line."""

import click

from distribution.cli.app import App


@click.group()
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              envvar="PRESSROOM_CONFIG", help="TOML settings file (see `pressroom config`).")
@click.version_option(package_name="pressroom")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Pressroom: send press releases to media lists and subscribers."""
    ctx.obj = App(config_file=config_file)


def _register() -> None:
    # Each command group lives in its own module; importing registers it on `main`.
    from distribution.cli import (  # noqa: F401
        admin,
        contacts,
        demo,
        embargo,
        lists,
        operate,
        releases,
        sending,
        web,
        worker,
    )


_register()
