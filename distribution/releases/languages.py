"""Languages of releases and contacts: checking a code, detecting it, picking a version.

Codes are BCP 47 tags as Content-Language and `lang` carry them ("en", "fr", "pt-BR"); a code
is known when the Unicode CLDR (through Babel) knows it, so a typo such as "fre" or "xx" is
refused rather than stored. Detection reads the text's script first (Arabic, Cyrillic…),
then the commonest words of the Latin-script languages an office is likely to write in.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from babel import Locale, UnknownLocaleError

from distribution.errors import InvalidInput

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,2}")
# The script of most letters decides, where one language is the likely writer of it.
_SCRIPTS = {"ARABIC": "ar", "HEBREW": "he", "CYRILLIC": "ru", "GREEK": "el", "CJK": "zh",
            "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko", "DEVANAGARI": "hi",
            "THAI": "th", "ARMENIAN": "hy", "GEORGIAN": "ka"}
_WORDS = {
    "en": "the of and to in is for on that with was by this are as from has have will",
    "fr": "le la les des du et est une un dans pour que sur au aux par qui avec ce été",
    "es": "el la los las del y en que por con para una un es se al su ha como sobre",
    "de": "der die das und ist nicht mit den von zu ein eine im für auf dem des sich",
    "pt": "o a os as do da dos das e em que para com uma um não por no na ao",
    "it": "il la di che e per un una del della con non sono alla nel gli le è",
}
_WORD_SETS = {code: frozenset(words.split()) for code, words in _WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")


def checked(code: str, *, what: str = "language") -> str:
    """A known language tag, normalised ("pt_br" -> "pt-BR"); anything else is refused."""
    text = code.strip()
    if not _TAG.fullmatch(text):
        raise InvalidInput(f"{what} {code!r} is not a language code such as 'en' or 'pt-BR'")
    try:
        locale = Locale.parse(text.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        raise InvalidInput(f"{what} {code!r} is not a known language code "
                           "(e.g. en, fr, es, ar, pt-BR)") from None
    return "-".join(p for p in (locale.language, locale.script, locale.territory) if p)


def primary(code: str | None) -> str:
    return (code or "").replace("_", "-").split("-")[0].lower()


def detect(text: str) -> str | None:
    """The language a text is most likely written in, or None when it cannot tell."""
    scripts: Counter[str] = Counter()
    for char in text:
        if char.isalpha():
            scripts[_script(char)] += 1
    if not scripts:
        return None
    script, _ = scripts.most_common(1)[0]
    if script != "LATIN":
        return _SCRIPTS.get(script)
    words = Counter(w.lower() for w in _WORD.findall(text))
    scores = {code: sum(words[w] for w in vocabulary)
              for code, vocabulary in _WORD_SETS.items()}
    best = max(scores, key=lambda c: scores[c])
    return best if scores[best] >= 3 else None


def pick(wanted: str | None, available: Iterable[str], fallback: str) -> str:
    """The version for a reader of `wanted`: exact tag, then the same primary language."""
    options = list(available)
    if wanted:
        lowered = wanted.replace("_", "-").lower()
        for code in options:
            if code.lower() == lowered:
                return code
        for code in options:
            if primary(code) == primary(wanted):
                return code
    return fallback


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    first = name.split(" ")[0]
    return "CJK" if first == "CJK" else first
