"""Message catalogs: every fixed string a reader sees, in the reader's language.

The catalogs are gettext .po files under templates/locale (domain "pressroom"), extracted
from the templates and the code with `pybabel extract -F babel.cfg`, compiled to .mo beside
them (both ship in the package). A language without a catalog reads English.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel import Locale
from babel.support import NullTranslations, Translations
from markupsafe import escape

import templates

DOMAIN = "pressroom"
CATALOGS = Path(templates.__file__).parent / "locale"
LANGUAGES = ("en", "fr", "es", "ar")  # complete catalogs
RTL = frozenset({"ar", "dv", "fa", "he", "ku", "ps", "ur", "yi"})


def catalog_language(code: str | None) -> str:
    """The catalog for a language tag: "fr-CA" reads French, "de" (none yet) English."""
    primary = (code or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGUAGES else "en"


def direction(code: str | None) -> str:
    return "rtl" if (code or "").replace("_", "-").split("-")[0].lower() in RTL else "ltr"


@lru_cache(maxsize=16)
def translations(code: str | None) -> NullTranslations:
    language = catalog_language(code)
    if language == "en":
        return NullTranslations()  # the source strings are English
    return Translations.load(str(CATALOGS), [language], domain=DOMAIN)


@lru_cache(maxsize=16)
def babel_locale(code: str | None) -> Locale:
    """The CLDR locale for dates and numbers: the tag itself when CLDR knows it."""
    text = (code or "en").replace("-", "_")
    try:
        return Locale.parse(text)
    except (ValueError, LookupError):
        return Locale.parse(catalog_language(code))


def N_(message: str) -> str:  # noqa: N802 - the name gettext's tools look for
    """Marks a message for the catalogs; it is translated where it is shown."""
    return message


def translate(code: str | None, message: str, **values: Any) -> str:
    translated = translations(code).gettext(message)
    return translated % values if values else translated


@lru_cache(maxsize=16)
def template_callables(code: str | None) -> dict[str, Any]:
    """`gettext`/`ngettext` for a template's context, as jinja2.ext.i18n's newstyle calls them:
    keyword values are formatted in, and escaped where the template autoescapes."""
    catalog = translations(code)

    @jinja2.pass_context
    def gettext_(context: jinja2.runtime.Context, message: str, **values: Any) -> str:
        return _format(context, catalog.gettext(message), values)

    @jinja2.pass_context
    def ngettext_(context: jinja2.runtime.Context, singular: str, plural: str, n: int,
                  **values: Any) -> str:
        values.setdefault("num", n)
        return _format(context, catalog.ngettext(singular, plural, n), values)

    return {"gettext": gettext_, "ngettext": ngettext_, "_": gettext_}


def _format(context: jinja2.runtime.Context, text: str, values: dict[str, Any]) -> str:
    # Escaped, not trusted: `_(message)` may be handed a variable, and catalogs hold plain
    # text. Markup's % then escapes each value that is not already markup.
    if context.eval_ctx.autoescape:
        text = escape(text)
    return text % values if values else text


def install(env: jinja2.Environment) -> None:
    """The i18n extension on `env`, English by default; a render's context may pass the
    callables of another language (template_callables), which win over these."""
    env.add_extension("jinja2.ext.i18n")
    env.globals.update(template_callables("en"))
    env.newstyle_gettext = True  # type: ignore[attr-defined]
