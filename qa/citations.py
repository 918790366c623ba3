"""Render answers and their citations as safe HTML (for the chat) or Markdown (for export).

Pure functions only: strings in, strings out, no I/O and no UI framework. Every piece of
document or answer text goes through `html.escape`, so a document containing `<script>` or
`<img onerror=...>` is shown as text, never executed.

The HTML never contains a raw newline: chat messages are parsed as Markdown, and one HTML
block there ends at the first blank line, which would let Markdown mangle the rest.
"""

from __future__ import annotations

import hashlib
import html
import re

from qa.schema import Answer, Citation

__all__ = [
    "highlight_html",
    "citation_html",
    "answer_html",
    "answer_markdown",
    "document_html",
    "DOCUMENT_QUOTE_ID",
    "PASSAGE_CHARS",
    "POPOVER_CHARS",
]

#: Element id of the highlighted quote in `document_html`, to scroll it into view.
DOCUMENT_QUOTE_ID = "qa-doc-quote"

_MARKER = re.compile(r"\[(\d+)\]")
#: Follows a written sentence that no cited sentence supports (qa.writing).
UNSUPPORTED_MARK = "[unsupported]"
#: Under a model-written answer.
WRITTEN_NOTE_HTML = ('<p class="qa-written-note">Written by the language model; every citation was checked against '
                     "the sentence it cites.</p>")
_NEWLINES = re.compile(r"\r\n|\r|\n")


def _escape(text: str) -> str:
    """HTML-escape `text` (quotes too) and turn line breaks into `<br>`."""
    return _NEWLINES.sub("<br>", html.escape(text, quote=True))


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _mark_span(text: str, start: int, end: int, mark_attrs: str = "", words: tuple[int, int] | None = None) -> str:
    """Escape `text`, wrapping `text[start:end]` in `<mark>` (no mark if the span is empty) and
    the answer `words` (offsets into `text`, inside the quote) in `<strong>`."""
    start = _clamp(start, 0, len(text))
    end = _clamp(end, start, len(text))
    if start == end:
        return _escape(text)
    return (
        _escape(text[:start])
        + f"<mark{mark_attrs}>"
        + _bold_words(text[start:end], *((words[0] - start, words[1] - start) if words else (0, 0)))
        + "</mark>"
        + _escape(text[end:])
    )


def _bold_words(text: str, start: int, end: int) -> str:
    """Escaped `text` with `text[start:end]` in `<strong>` (nothing bold if the span is empty or outside)."""
    if not 0 <= start < end <= len(text):
        return _escape(text)
    return _escape(text[:start]) + f'<strong class="qa-answer-words">{_escape(text[start:end])}</strong>' + _escape(text[end:])


def highlight_html(text: str, quote_start: int, quote_end: int) -> str:
    """Escaped `text` with `text[quote_start:quote_end]` wrapped in `<mark>`.

    Offsets are relative to `text` and clamped to it; an empty span yields no `<mark>`.
    """
    return _mark_span(text, quote_start, quote_end)


def _format_score(score: float) -> str:
    return f"{score:.2f}"


def _anchor_prefix(answer: Answer) -> str:
    """A stable id prefix so anchors of different answers in one page do not collide."""
    digest = hashlib.sha1(f"{answer.question}\x00{answer.text}".encode("utf-8")).hexdigest()
    return f"cite-{digest[:10]}"


#: Longest passage excerpt shown under an answer; the source viewer shows the whole document.
PASSAGE_CHARS = 700


def _excerpt(text: str, start: int, end: int, max_chars: int) -> tuple[int, int]:
    """Bounds of a window of about `max_chars` around `text[start:end]`, cut at line,
    sentence or word boundaries; never cuts into the quote."""
    if max_chars <= 0 or len(text) <= max_chars:
        return 0, len(text)
    spare = max(0, max_chars - (end - start))
    lo = max(0, start - spare // 2)
    hi = min(len(text), end + (spare - (start - lo)))
    lo = max(0, min(lo, hi - max_chars, start))
    if lo > 0:  # start at the first line, sentence or word boundary after `lo`
        head = text[lo:start]
        newline = head.find("\n")
        sentence = re.search(r"[.!?]\s+", head)
        space = head.find(" ")
        if newline >= 0:
            lo += newline + 1
        elif sentence:
            lo += sentence.end()
        elif space >= 0:
            lo += space + 1
    if hi < len(text):  # end at the last line, sentence or word boundary before `hi`
        tail = text[end:hi]
        newline = tail.rfind("\n")
        sentences = list(re.finditer(r"[.!?](?=\s)", tail))
        space = tail.rfind(" ")
        if newline >= 0:
            hi = end + newline
        elif sentences:
            hi = end + sentences[-1].end()
        elif space >= 0:
            hi = end + space
    return lo, hi


def _passage_html(c: Citation, max_chars: int) -> str:
    """Escaped excerpt of about `max_chars` of the passage around its quote, quote in `<mark>`,
    with "…" where it was cut."""
    q_start = _clamp(c.quote_start - c.start, 0, len(c.text))
    q_end = _clamp(c.quote_end - c.start, q_start, len(c.text))
    lo, hi = _excerpt(c.text, q_start, q_end, max_chars)
    piece = c.text[lo:hi]
    lead = len(piece) - len(piece.lstrip())  # leading blank lines would render as empty space
    shift = c.start + lo + lead
    words = (c.answer_start - shift, c.answer_end - shift) if c.answer_start >= 0 else None
    passage = _mark_span(piece.strip(), q_start - lo - lead, q_end - lo - lead, words=words)
    return ("… " if c.text[:lo].strip() else "") + passage + (" …" if c.text[hi:].strip() else "")


def citation_html(
    c: Citation,
    show_score: bool = False,
    anchor_id: str | None = None,
    max_chars: int = PASSAGE_CHARS,
) -> str:
    """One cited passage: number, source name, and the passage with its quote in `<mark>`.

    A passage longer than `max_chars` (0 = no limit) is shown as an excerpt around the
    quote, with "…" where it was cut. `anchor_id` (optional) becomes the element id,
    the target of the answer's `[n]` links, and adds an "Open in the whole document" link
    (to the same anchor; the chat's script opens it in the source viewer).
    """
    id_attr = f' id="{html.escape(anchor_id, quote=True)}"' if anchor_id else ""
    open_link = (
        f'<a class="qa-open" href="#{html.escape(anchor_id, quote=True)}">Open in the whole document</a>'
        if anchor_id
        else ""
    )
    score = (
        f' <span class="qa-cite-score">relevance {_format_score(c.score)}</span>' if show_score else ""
    )
    passage = _passage_html(c, max_chars)
    return (
        f'<details class="qa-cite"{id_attr} open>'
        f'<summary><span class="qa-cite-num">[{c.number}]</span> '
        f'<span class="qa-cite-source">{html.escape(c.source, quote=True)}</span>{_section_html(c)}{score}</summary>'
        f'<blockquote class="qa-cite-passage">{passage}</blockquote>'
        f"{open_link}"
        "</details>"
    )


def _section_html(c: Citation) -> str:
    """" › the section's title" after a citation's source name, when the document has headings, and
    the columns of a quoted table row ("› columns: Planet | Moons")."""
    return "".join(f' <span class="{cls}">› {html.escape(label + text, quote=True)}</span>'
                   for cls, label, text in (("qa-cite-section", "", c.section), ("qa-cite-columns", "columns: ", c.columns))
                   if text)


#: Longest passage excerpt in the hover card of a marker.
POPOVER_CHARS = 320


def _marker_link(number: int, citation: Citation, anchor_id: str) -> str:
    """The clickable `[n]` in the answer text, with a hover/focus card: the source name and
    an excerpt of the passage with the quote in `<mark>`.

    The link's target is the cited passage under the answer (`#anchor_id`); the chat's
    script also opens it in the source viewer. The card is shown by CSS on hover/focus.
    """
    anchor = html.escape(anchor_id, quote=True)
    label = html.escape(f"Source {number}: {citation.source}", quote=True)
    passage = _passage_html(citation, POPOVER_CHARS)
    return (
        '<span class="qa-ref-wrap">'
        f'<a class="qa-ref" href="#{anchor}" aria-label="{label}" aria-describedby="{anchor}-pop">[{number}]</a>'
        f'<span class="qa-pop" id="{anchor}-pop" role="tooltip">'
        f'<span class="qa-pop-source">[{number}] {html.escape(citation.source, quote=True)}{_section_html(citation)}</span>'
        f'<span class="qa-pop-passage">{passage}</span>'
        "</span></span>"
    )


def answer_html(answer: Answer, show_scores: bool = False, id_prefix: str | None = None) -> str:
    """The chat reply: escaped answer text with clickable `[n]` markers, then the cited passages.

    Markers without a matching citation stay plain text. An unanswered answer (or one
    without citations) is just its escaped text. `id_prefix` makes anchor ids unique per
    message; by default it is derived from the question and answer text.
    """
    understood = _understood_html(answer)
    if not answer.answered or not answer.citations:
        closest = "".join(
            f'<li><span class="qa-source-name">{_escape(p.source)}</span> {_escape(_shorten(p.text, 240))}</li>'
            for p in answer.closest
        )
        listing = (f'<div class="qa-closest"><div class="qa-sources-title">Closest passages</div>'
                   f"<ul>{closest}</ul></div>") if closest else ""
        return f'<div class="qa-answer qa-unanswered">{understood}<p>{_escape(answer.text)}</p>{listing}</div>'

    prefix = id_prefix or _anchor_prefix(answer)
    by_number = {c.number: c for c in answer.citations}

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        citation = by_number.get(number)
        if citation is None:
            return match.group(0)
        return _marker_link(number, citation, f"{prefix}-{number}")

    # Escaping leaves "[n]" untouched, so markers can be linked after escaping.
    body = _escape(answer.text)
    short = _escape(" ".join(answer.short.split()))
    if short and short in body:  # the exact answer words, bold in the quote
        body = body.replace(short, f'<strong class="qa-answer-words">{short}</strong>', 1)
    body = _MARKER.sub(link, body)
    body = body.replace(UNSUPPORTED_MARK, '<span class="qa-unsupported" title="No cited sentence supports this '
                                          'sentence: check it yourself">unsupported</span>')
    notice = f'<p class="qa-notice">{_escape(answer.notice)}</p>' if answer.notice else ""
    checked = WRITTEN_NOTE_HTML if answer.written else ""
    sources = "".join(
        citation_html(c, show_score=show_scores, anchor_id=f"{prefix}-{c.number}")
        for c in sorted(answer.citations, key=lambda c: c.number)
    )
    return (
        '<div class="qa-answer">'
        f"{understood}{notice}"
        f'<p class="qa-answer-text">{body}</p>{checked}'
        f'<div class="qa-sources"><div class="qa-sources-title">Sources</div>{sources}</div>'
        "</div>"
    )


def _understood_html(answer: Answer) -> str:
    """ "Understood as: ..." when a follow-up question was rewritten from the conversation."""
    if not answer.query or answer.query == answer.question:
        return ""
    return f'<p class="qa-understood">Understood as: {_escape(answer.query)}</p>'


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + " …"


def _md_escape_inline(text: str) -> str:
    """Neutralise characters that would start Markdown/HTML markup in a one-line string."""
    text = " ".join(text.split())
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def _md_text(text: str) -> str:
    """Escape `<` so document text cannot inject HTML into a rendered export (`&`, `>` stay readable)."""
    return text.replace("<", "&lt;")


def _md_blockquote(text: str) -> str:
    """`text` as a Markdown blockquote, one `>` line per source line."""
    lines = text.strip().splitlines() or [""]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def answer_markdown(answer: Answer) -> str:
    """One question and answer as Markdown, with the numbered sources and quotes under it."""
    parts = [f"### Q: {_md_escape_inline(answer.question)}", "", _md_text(answer.text.strip()), ""]
    if answer.answered and answer.citations:
        parts.append("**Sources**")
        parts.append("")
        for c in sorted(answer.citations, key=lambda c: c.number):
            parts.append(
                f"{c.number}. `{c.source.replace('`', '')}`"
                + (f" › {_md_escape_inline(c.section)}" if c.section else "")
                + (f" › columns: {_md_escape_inline(c.columns)}" if c.columns else "")
                + f" (characters {c.quote_start}–{c.quote_end})"
            )
            parts.append("")
            quote = c.quote
            if 0 <= c.answer_start - c.quote_start < c.answer_end - c.quote_start <= len(quote):
                a, z = c.answer_start - c.quote_start, c.answer_end - c.quote_start
                quote = f"{quote[:a]}**{quote[a:z]}**{quote[z:]}"
            parts.append("   " + _md_blockquote(_md_text(quote)).replace("\n", "\n   "))
            parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def document_html(text: str, quote_start: int, quote_end: int) -> str:
    """The whole document, escaped, with the quote in `<mark id="qa-doc-quote">` to scroll to."""
    body = _mark_span(text, quote_start, quote_end, f' id="{DOCUMENT_QUOTE_ID}"')
    return f'<div class="qa-doc">{body}</div>'
