"""The language of a release, from its script and its commonest words.

Only a guess, made when neither the front matter nor `--language` says: Arabic script is
Arabic; Latin text is the language whose function words ("the", "de", "der", "het", ...) it
uses most. Too little text, or no clear winner, is no answer.
"""

from __future__ import annotations

import re
from collections import Counter

_WORDS = {
    "en": "the of and to in is for that with on are was by this from has have which will",
    "fr": "le la les des du et est une un pour dans qui que sur au aux par avec ne pas cette",
    "es": "el la los las del y en que por para con una un es se al como su sus lo más",
    "de": "der die das und ist nicht mit von den dem zu ein eine auf für des im sich auch",
    "it": "il la di che e è per un una del della con non sono gli le dei nel alla anche",
    "nl": "de het een van en is dat op te in voor met zijn niet ook door wordt aan",
    "pt": "o a os as de do da em que para com um uma não por se dos das ao",
}
_LEXICON = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
_WORD = re.compile(r"[^\W\d_]+")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN = re.compile(r"[A-Za-zÀ-ɏ]")


def detect_language(text: str) -> str | None:
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    if arabic > latin:
        return "ar"
    words = [word.lower() for word in _WORD.findall(text)]
    votes = Counter(lang for word in words for lang, lexicon in _LEXICON.items()
                    if word in lexicon)
    if not votes:
        return None
    (best, count), *rest = votes.most_common(2) + [("", 0)]
    return best if count >= 3 and count > 1.2 * rest[0][1] else None
