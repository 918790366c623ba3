"""Sentence splitting and chunking: pure functions, strings in, spans out.

Every span records character offsets into the original text, and
`text[span.start:span.end] == span.text` always holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .sentence_kinds import CELLS

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Span:
    """A piece of a text: `source_text[start:end] == text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ChunkSpan:
    """A run of whole consecutive sentences `[first_sentence, last_sentence)`."""

    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int


# Words that end with a period without ending the sentence (lowercase, without the period).
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    fr messrs mme mlle vs v etc al approx dept est inc ltd co corp bros no nos vol vols fig figs
    pp p ch sec art ed eds ave blvd rd jan feb mar apr jun jul aug sep sept oct nov dec
    e.g i.e a.m p.m u.s u.k u.n e.u u.s.a cf ca op
    """.split()
)

_TERMINATORS = ".!?…"
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«¿¡"
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then whitespace.
# It starts only where a run of terminal punctuation starts: trying every dot of a long "....."
# run again would make the search quadratic (the matches found are the same).
_BOUNDARY = re.compile(r"(?<![.!?…])([.!?…]+)([\"'”’)\]»]*)(\s+)")
_OPENER_RUN = re.compile("[" + re.escape(_OPENERS) + "]*")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_ITEM_MARKER = r"[-*+•]\s|\d{1,3}[.)]\s"
_LIST_OR_HEADING = re.compile(r"\s*(#{1,6}\s|" + _ITEM_MARKER + r"|>\s|\|)")
_LIST_ITEM = re.compile(r"\s*(" + _ITEM_MARKER + ")")


def split_sentences(text: str) -> list[Span]:
    """Split `text` into sentences a reader would agree with.

    Handles paragraph breaks, lines without a final period (captions, headings, bylines),
    abbreviations and initials, decimals and hyphenated numbers, and quotes around the
    final punctuation. A table row (a line of three or more cells joined by CELLS) is one
    sentence, whatever its cells hold.
    """
    spans: list[Span] = []
    for block_start, block_end in _blocks(text):
        for line_start, line_end in _lines(text, block_start, block_end):
            line = text[line_start:line_end]
            if line.count(CELLS) >= 2 and "\n" not in line.strip():  # a table row: "12 | Bonnell, Miss. Elizabeth | 58"
                spans.extend(_trimmed(text, line_start, line_end))
            else:
                spans.extend(_split_line(text, line_start, line_end))
    return spans


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs: runs of text between blank lines."""
    out = []
    pos = 0
    for m in _PARAGRAPH.finditer(text):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, len(text)))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a paragraph at the line breaks that end a unit (caption, heading, list item).

    Hard-wrapped prose (lines of similar width continuing mid-sentence) stays together.
    """
    raw: list[tuple[int, int]] = []  # the lines that are not blank
    widths: list[int] = []  # their widths without trailing whitespace
    pos = start
    while pos <= end:
        nl = text.find("\n", pos, end)
        line_end = end if nl == -1 else nl
        width = len(text[pos:line_end].rstrip())
        if width:
            raw.append((pos, line_end))
            widths.append(width)
        pos = line_end + 1
    if len(raw) <= 1:
        return raw
    wrapped = len(raw) >= 3 and sorted(widths)[len(widths) // 2] >= 40
    wrap_width = max(widths)
    out = [raw[0]]
    # Starts of the last two lines of out[-1] (None while it is a single line): reading only
    # those keeps this linear when many wrapped lines merge into one unit.
    penult: int | None = None
    last = raw[0][0]
    for (s, e), width in zip(raw[1:], widths[:-1]):
        group_start, group_end = out[-1]
        if penult is None or penult == group_start:
            prev = text[group_start:group_end].rstrip()
        else:
            # Three or more merged lines: the unit did not start with a heading, quote or table row
            # (or it would not have grown), and a list item runs on as prose does, so a neutral
            # first line and the last two lines stand in for it; _line_continues reads them
            # exactly as it reads the whole unit.
            prev = "x\n" + text[penult:group_end].rstrip()
        nxt = text[s:e].lstrip()
        if _describes(prev, text[s:e]) or _line_continues(prev, nxt, width, wrap_width if wrapped else 0):
            out[-1] = (group_start, e)
            penult, last = last, s
        else:
            out.append((s, e))
            penult, last = None, s
    return out


# Words no sentence ends with: a line ending in one runs on ("... or (2) access to copy the\n
# Corresponding Source from a network server"), however short the line.
_UNFINISHED = frozenset("a an the of and or nor to".split())
# What a wrapped line of prose may start with but a sentence does not: code and names in a manual
# ("Installing pip with\n$HOME set", "... the\n`--user` option", "... such as\n{ref}`this`").
_MID_SENTENCE = frozenset("$`{~/<_@%&=")


def _line_continues(prev: str, nxt: str, prev_width: int, wrap_width: int) -> bool:
    if not prev or not nxt:
        return False
    last = prev[-1]
    if last in _TERMINATORS or (last in _CLOSERS and len(prev) > 1 and prev[-2] in _TERMINATORS):
        # The line ended a sentence (the regular splitter would cut here anyway), unless it ends
        # with an abbreviation: "... led by Mr.\nAhmad Massoud". Tested first: it is the common case.
        if last != "." or not _is_abbreviation(_last_word(prev, 0, len(prev) - 1)):
            return False
        return not (_LIST_OR_HEADING.match(nxt) or _stands_alone(prev) or _LIST_MARKER.fullmatch(prev[:-1]))
    if _LIST_OR_HEADING.match(nxt) or _stands_alone(prev):
        return False
    if last in "-,;:(" or nxt[0].islower() or nxt[0] in _MID_SENTENCE \
            or _last_word(prev, 0, len(prev)).lower() in _UNFINISHED:
        return True
    # An unfinished line followed by a capitalised one: a continuation only in wrapped prose
    # where the line reaches the wrap width.
    return bool(wrap_width) and prev_width >= 0.8 * wrap_width


# A command-line option named on a line of its own, its description indented below it (a man page's
# "-o, --only-matching", an info manual's "'--brief'").
_OPTION_TERM = re.compile(r"['\"`‘]?--?[\w?#]")


def _describes(prev: str, nxt: str) -> bool:
    """Whether `nxt` (a line as written) describes the option that `prev` (one line) names: it is
    indented further. Then "-o, --only-matching" and "Print only the matched parts" are one
    sentence, and a quote of the description names its option."""
    if "\n" in prev:
        return False
    term = prev.lstrip()
    return (bool(_OPTION_TERM.match(term)) and len(term.split()) <= 6
            and len(nxt) - len(nxt.lstrip()) > len(prev) - len(term))


def _stands_alone(line: str) -> bool:
    """A heading, quote or table row: the next line never continues it. A list item runs on as prose
    does ("• glob elements have a pattern attribute. Any file whose name matches this pattern will
    be given this\nMIME type (subject to ...).", a PDF's wrapped bullet)."""
    return bool(_LIST_OR_HEADING.match(line)) and not _LIST_ITEM.match(line)


def _split_line(text: str, start: int, end: int) -> list[Span]:
    spans: list[Span] = []
    # Leading whitespace is trimmed from the first sentence anyway; skipping it here keeps the
    # list-marker check on each boundary (`\s*...` from the segment's start) from rescanning a
    # long run of it again and again ("    ...Mr. Mr. Mr." was quadratic).
    seg_start = start
    while seg_start < end and text[seg_start].isspace():
        seg_start += 1
    for m in _BOUNDARY.finditer(text, start, end):
        cut = m.end(2)
        if m.end(3) >= end:
            break
        if not _is_boundary(text, seg_start, m, end):
            continue
        # Nothing to trim: the segment starts after whitespace and ends with punctuation.
        spans.append(Span(seg_start, cut, text[seg_start:cut]))
        seg_start = m.end(3)
    spans.extend(_trimmed(text, seg_start, end))
    return spans


# A list marker or section number before a period: "1. Open the box.", "b. ...", "iv. ...", "2.6. CDBS".
_LIST_MARKER = re.compile(r"\s*(\d{1,3}(?:\.\d{1,3}){0,3}|[A-Za-z]|[ivxlcIVXLC]{1,6})")
# A parenthetical that closes its line, such as a photo credit: "(Image Source: Reuters)".
_TRAILING_PARENTHETICAL = re.compile(r"\([^()\n]{1,120}\)(?:[^()\n.!?]{0,60}\))?\s*")


def _is_boundary(text: str, seg_start: int, m: re.Match[str], end: int) -> bool:
    # The cheap tests come first: this runs at every candidate (500,000 times in 1 MB of ". . .").
    after = m.end(3)  # < end, and text[seg_start] is not whitespace (see _split_line)
    first_at = _OPENER_RUN.match(text, after, end).end() if text[after] in _OPENERS else after
    if first_at >= end:
        return False
    if text[first_at].islower():
        return False  # "e.g. this", "the U.S. dollar", "... and so on. and then"
    if text[after] == "(" and _TRAILING_PARENTHETICAL.fullmatch(text, after, end):
        return False  # a credit or aside that ends the line belongs to the sentence before it
    dot = m.start(1)
    if m.end(1) - dot > 1 or text[dot] != ".":
        return True  # ! ? … and "..." end sentences when a capital follows
    if dot == seg_start:
        return True  # a lone "." (no marker, no word before it)
    if dot - seg_start <= 15 and _LIST_MARKER.fullmatch(text, seg_start, dot):
        return False  # "1. Open the box.", "2.6. CDBS" (a marker is at most 15 characters)
    # Only the last word before the period matters; slicing the whole segment instead made
    # "Mr. Mr. Mr. ..." (a boundary rejected again and again) quadratic.
    return not _is_abbreviation(_last_word(text, seg_start, dot))


def _last_word(text: str, lo: int, hi: int) -> str:
    """The word `re.search(r"([\\w.'’-]+)$", text[lo:hi])` finds (a line break right before `hi`
    is skipped, as `$` does), read backwards from `hi`: that search tried every start in a long
    token and was quadratic ("aaaa…a b." took 12 s for 40,000 characters)."""
    i = hi - 1 if hi > lo and text[hi - 1] == "\n" else hi
    j = i
    while j > lo and (text[j - 1].isalnum() or text[j - 1] in "_.'’-"):
        j -= 1
    return text[j:i]


def _is_abbreviation(word: str) -> bool:
    """Whether the word before a period is an abbreviation or an initial."""
    if not word:
        return False
    lowered = word.lower().rstrip(".")
    if lowered in ABBREVIATIONS or lowered.split("-")[-1] in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha() and word.isupper():
        return True  # an initial: "J. Smith"
    return bool(_DOTTED_INITIALS.fullmatch(word))  # "U.S" in "U.S. Army"


_DOTTED_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


def _trimmed(text: str, start: int, end: int) -> list[Span]:
    piece = text[start:end]
    stripped = piece.strip()  # str.strip removes what str.isspace calls whitespace
    if not stripped:
        return []
    start += len(piece) - len(piece.lstrip())
    return [Span(start, start + len(stripped), stripped)]


def chunk_sentences(
    text: str,
    sentences: Sequence[Span],
    count_tokens: TokenCounter,
    max_tokens: int,
    overlap: int = 1,
) -> list[ChunkSpan]:
    """Pack consecutive whole sentences into chunks of at most `max_tokens` tokens.

    Consecutive chunks share `overlap` sentences. A sentence longer than the budget
    becomes a chunk of its own (the model truncates it when embedding).
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    if not sentences:
        return []
    lengths = count_tokens([s.text for s in sentences])
    chunks: list[ChunkSpan] = []
    first = 0
    n = len(sentences)
    while first < n:
        last = first
        total = 0
        while last < n and (last == first or total + lengths[last] + 1 <= max_tokens):
            total += lengths[last] + (1 if last > first else 0)
            last += 1
        start, end = sentences[first].start, sentences[last - 1].end
        chunks.append(ChunkSpan(start, end, text[start:end], first, last))
        if last >= n:
            break
        nxt = max(last - overlap, first + 1)
        # Start afresh when the overlap would leave no room for a new sentence: a chunk that
        # only repeats sentences of the previous one is waste.
        if sum(lengths[nxt : last + 1]) + (last - nxt) > max_tokens:
            nxt = last
        first = nxt
    return chunks
