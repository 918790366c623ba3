"""Text analysis for matching words: tokenizing, stopwords and stems (pure functions)."""

from __future__ import annotations

import re
from functools import lru_cache

# A number with decimal or thousands separators is one term ("22.04", "1,200" as "1200"): as two it
# would match "21.04" by its "04". An ISO date is two terms, itself and its year ("2021-10-14",
# "2021"): its month and day alone would match "Debian 10" or "chapter 14".
_WORD = re.compile(r"\d{4}-\d\d-\d\d(?!\d)|\d+(?:[.,]\d+)+|[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves s t don shall may might must also us
    """.split()
)


# Words that phrase a request rather than name what it is about ("Tell me about Baradar",
# "What does the article say about Herat?"): left out of a question's terms.
REQUEST_WORDS = frozenset(
    "tell explain describe please know article articles text texts document documents passage passages".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def _content(text: str) -> list[str]:
    out = []
    for m in _WORD.finditer(text.lower()):
        w = m.group(0).replace("’", "'")
        if w[0].isdigit():
            w = w.replace(",", "")
            if w[-2:] in ("st", "nd", "rd", "th") and w[:-2].isdigit():  # an ordinal: "25th" as "25"
                w = w[:-2]
            if len(w) == 10 and w[4] == "-":  # an ISO date
                out.append(w[:4])
        if w.endswith("'s"):
            w = w[:-2]
        if w and w not in STOPWORDS:
            out.append(w)
    return out


def tokenize(text: str) -> list[str]:
    """Lowercased, stemmed content words (stopwords removed); pure and cached per word."""
    return [_stem(w) for w in _content(text)]


def _without_request_words(question: str) -> str:
    return " ".join(w for w in _WORD.findall(question) if w.lower() not in REQUEST_WORDS)


def query_terms(question: str) -> list[str]:
    """`tokenize` for a question: also drops the words that only phrase the request."""
    return tokenize(_without_request_words(question))


# What a terminal would act on instead of showing: C0 controls but line break and tab (a lone
# carriage return too: it overwrites the line), DEL, C1 controls (U+009B is CSI) and the
# bidirectional marks and overrides that reorder what is shown.
_TERMINAL_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)")


def terminal_safe(text: str) -> str:
    """`text` safe to write to a terminal: each control character (C0 but line break and tab,
    DEL, C1) and bidirectional override becomes its escape, e.g. "\\u001b" for ESC, so a file
    name or document cannot set the terminal's title or colours or reorder what is shown.
    The escapes are valid inside JSON strings, so JSON text stays JSON."""
    return _TERMINAL_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
