"""Does a question look like it is not in English? A small, pure heuristic (no model, no I/O).

The bundled model reads English only; a question in another language gets a note saying so
(qa.ui.render). Two signals: the share of the letters that are plain ASCII (Cyrillic, Arabic,
CJK… have none), and, for Latin-script text, common function words of other European
languages with no English ones beside them. Short or mixed text counts as English: a wrong
note is worse than none.
"""

from __future__ import annotations

import re

__all__ = ["LANGUAGE_NOTE", "looks_non_english"]

LANGUAGE_NOTE = ("This question does not look like English. The bundled model reads English only, so answers "
                 "to questions in other languages are often missed; try asking in English.")

_WORD = re.compile(r"[^\W\d_]+")

ENGLISH = frozenset(
    "a an the and or but of to in on at by for from with about as into over under after before between "
    "is are was were be been being do does did has have had will would can could should may might must "
    "what who whom whose which when where why how that this these those there it its he she they we you i "
    "his her their our your my me him them us not no yes if than then so very much many long".split()
)
# Frequent function words of French, Spanish, Portuguese, Italian, German and Dutch that are
# not English words too.
FOREIGN = frozenset(
    "le la les des du un une est sont qui que quoi quel quelle quels quelles où pourquoi comment avec pour "
    "dans sur pas et el los las del una es son qué quién cuál cuándo dónde cómo por para con y o "
    "o os da do das dos um uma são quem qual quando onde como com não "
    "il gli della delle di che chi cosa dove perché come sono è "
    "der die das den dem ein eine einen ist sind wer wie wo warum wann welche welcher und mit von zu nicht "
    "het een en van wat wie waar waarom hoe zijn niet".split()
)


def looks_non_english(text: str) -> bool:
    """True if `text` is most likely not English (see the module's doc)."""
    words = _WORD.findall(text or "")
    letters = sum(len(w) for w in words)
    if letters < 4:
        return False
    ascii_letters = sum(1 for w in words for ch in w if ch.isascii())
    if ascii_letters / letters < 0.6:
        return True
    lowered = [w.lower() for w in words]
    english = sum(w in ENGLISH for w in lowered)
    foreign = sum(w in FOREIGN for w in lowered)
    return len(lowered) >= 3 and foreign >= 2 and foreign > 2 * english
