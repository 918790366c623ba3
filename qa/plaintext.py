"""Plain text from a file's bytes: the encoding (UTF-8, UTF-16, cp1252), line endings and BOM,
a plain-text book's illustration lines, a plain-text document's headings and shell examples (pure
functions)."""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata

from .sentence_kinds import CAPTION, CODE, HEADING

log = logging.getLogger("qa.documents")


def normalize_text(text: str) -> str:
    """`text` with every line ending a "\n" (Windows "\r\n" and old Mac "\r" alike) and no leading BOM.

    Every reader (all formats) goes through it, so no quote, answer or citation holds a "\r", and
    the offsets index this text (`Document.text`), never the file's bytes.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or UTF-16 (with BOM, or ASCII-rich without);
    falls back to cp1252 so legacy files still load. Line endings become "\n" (`normalize_text`)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    encoding = utf16_encoding(data)
    if encoding is not None:
        return normalize_text(data.decode(encoding, errors="replace"))
    try:
        return normalize_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        log.warning("file is not valid UTF-8; decoding as cp1252")
        return normalize_text(data.decode("cp1252", errors="replace"))


def utf16_encoding(data: bytes) -> str | None:
    """The codec for UTF-16 `data`, else None.

    "utf-16" if it starts with a BOM; "utf-16-le"/"-be" if its first bytes look like BOM-less
    UTF-16 text: NUL bytes (the high bytes of ASCII characters) in alternate positions.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:8192]
    pairs = len(sample) // 2
    even, odd = sample[0 : pairs * 2 : 2].count(0), sample[1 : pairs * 2 : 2].count(0)
    if odd >= max(2, pairs // 10) and even * 4 <= odd:
        encoding = "utf-16-le"
    elif even >= max(2, pairs // 10) and odd * 4 <= even:
        encoding = "utf-16-be"
    else:
        return None
    return encoding if _reads_as_text(sample, encoding) else None


def _reads_as_text(sample: bytes, encoding: str) -> bool:
    """True if `sample` decodes strictly and is nearly free of control characters."""
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    controls = sum(1 for ch in text if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    return controls * 20 <= len(text)


# A Project Gutenberg illustration line: "[Illustration: He came in.]", "[Illustration]"; it may
# run over several lines, never over a blank one.
_ILLUSTRATION = re.compile(r"^[ \t]*\[Illustration(?::(?:[^\]\n]|\n(?![ \t]*\n))*)?\]", re.MULTILINE | re.IGNORECASE)


def illustration_regions(text: str) -> list[tuple[int, int, str]]:
    """The "[Illustration: ...]" lines of a plain-text book, as CAPTION regions."""
    if "[Illustration" not in text and "[illustration" not in text.lower():
        return []
    out = []
    for m in _ILLUSTRATION.finditer(text):
        start = m.start() + len(m.group()) - len(m.group().lstrip())
        out.append((start, m.end(), CAPTION))
    return out


# A plain-text heading: a line underlined with "===" or "---"; or a line after a blank one (or a
# heading), before a blank one or above text indented further (a man page's "NAME", "EXIT STATUS"),
# in at most HEADING_WORDS words of plain characters, that is in capitals ("TERMS AND CONDITIONS",
# "CHAPTER I.") or numbered with its words mostly capitalised ("8. Termination.", "2.1. Grants"; not
# "1. We met on Monday."), or, above text indented further, all capitalised words ("Generic Program
# Information").
_UNDERLINED = re.compile(r"^[ \t]*(\S[^\n]*)\n[ \t]*([=\-~^*])\2{2,}[ \t]*$", re.MULTILINE)
_NUMBERED = re.compile(r"(?:(?:section|chapter|article|part|appendix|book)\s+)?(?:\d+(?:\.\d+)*\.?|[IVXLCDM]+\.|[A-Z]\.)"
                       r"\s+[A-Z]", re.IGNORECASE)
_PLAIN_LINE = re.compile(r"[\w .,'’&()/-]+")  # no "[:]", "\\0", "|": a table row or a synopsis is no title
HEADING_WORDS = 12


def heading_regions(text: str) -> list[tuple[int, int, str]]:
    """The headings of a plain-text document (a licence's "8. Termination.", a manual's underlined
    titles, a man page's "DESCRIPTION", a book's "CHAPTER I."), as HEADING regions: the section a
    quote is under."""
    out = []
    for m in _UNDERLINED.finditer(text):
        title, rule = m.group(1).strip(), m.group().rsplit("\n", 1)[1].strip()
        if len(title.split()) <= HEADING_WORDS and any(ch.isalnum() for ch in title) and 2 * len(rule) >= len(title):
            out.append((m.start(1), m.end(), HEADING))  # the title and its underline
    taken = {text.rfind("\n", 0, a) + 1 for a, _, _ in out} | {text.rfind("\n", 0, b) + 1 for _, b, _ in out}
    lines = [(m.start(), m.group()) for m in re.finditer(r"[^\n]*", text) if m.start() == 0 or text[m.start() - 1] == "\n"]
    heading_above = -1  # the line number of the last heading found: a subheading may follow it at once
    for i, (at, raw) in enumerate(lines):
        line = raw.strip()
        if not line or (i and lines[i - 1][1].strip() and heading_above != i - 1) or at in taken:  # (an underlined one)
            continue
        after = lines[i + 1][1] if i + 1 < len(lines) else ""
        indent = len(raw) - len(raw.lstrip())
        above_indented = bool(after.strip()) and len(after) - len(after.lstrip()) > indent
        if after.strip() and not above_indented:
            continue
        if len(line.split()) > HEADING_WORDS or "   " in line or not _PLAIN_LINE.fullmatch(line) or line[-1] in ",;:?!":
            continue
        letters = [ch for ch in line if ch.isalpha()]
        words = [w for w in line.split() if w[:1].isalpha()]
        capitals = len(letters) >= 2 and all(ch.isupper() for ch in letters)
        numbered = bool(_NUMBERED.match(line)) and 2 * sum(w[:1].isupper() for w in words[1:]) >= len(words) - 1
        titled = above_indented and bool(words) and all(w[:1].isupper() for w in words) and line[-1] != "."
        if capitals or numbered or titled:
            start = at + indent
            out.append((start, start + len(line), HEADING))
            heading_above = i
    return sorted(out)


# A shell example: a command after a "$ " prompt, and what it prints below it, up to a blank line.
_SHELL_EXAMPLE = re.compile(r"^([ \t]*)\$ \S[^\n]*(?:\n\1[^\n]*\S[^\n]*)*", re.MULTILINE)


def shell_example_regions(text: str) -> list[tuple[int, int, str]]:
    """The shell examples of a plain-text manual ("$ grep -n -- 'f.*\\.c$' *g*.h", then its output),
    as CODE regions: what the prose explains, not prose to quote."""
    return [(m.start() + len(m.group(1)), m.end(), CODE) for m in _SHELL_EXAMPLE.finditer(text)]
