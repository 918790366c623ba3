"""What a newcomer sees first: which documents are loaded, and example questions drawn from
the documents themselves (pure: names and texts in, HTML and questions out).

The names that recur in the documents make the questions: a capitalised phrase of two or
more words (e.g. "Ahmad Massoud", "National Resistance Front"), less a first word that starts
a sentence and also occurs in lower case ("The", "While") or before a name found without it. How a name is used
picks the question:

- named with a description after a comma ("X, a former member of …", "X, Spokesperson of …"):
  "Who is X?";
- followed by "said"/"says"/"told" (and no "of" in it, so a person): "What did X say?";
- written after "the" ("the National Resistance Front"): "What is the X?".

Names are ranked by how often they occur (then by first mention), the kinds are interleaved
and documents take turns, so the examples are varied. The result is deterministic. The UI
(`Controller.example_questions`) keeps the ones the assistant can actually answer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["documents_line", "example_questions"]

MAX_DOCUMENT_CHARS = 200_000  # of each document's text
MAX_DOCUMENTS = 30

_WORD = r"[A-Z][^\W_]*(?:-[^\W_]+)*"
_NAME = re.compile(rf"\b{_WORD}(?:[ \t]+(?:of[ \t]+(?:the[ \t]+)?)?{_WORD})*")
_LOWER_WORD = re.compile(r"\b[a-z][^\W_]*(?:-[^\W_]+)*")
_DESCRIBED = re.compile(r",[ \t]+(?:an?|the|[A-Z][^\W\d_]+)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n][\"'\u201c\u2018(\s]*)$")
_SAID = re.compile(r"[ \t]+(?:said|says|told)\b")
_BEFORE_THE = re.compile(r"(?:^|[^\w])the[ \t]+$", re.IGNORECASE)


@dataclass
class _Name:
    text: str
    count: int = 0
    first: int = 0
    described: bool = False
    said: bool = False
    after_the: bool = False


def _names(text: str) -> list[_Name]:
    lower_words = {w for w in _LOWER_WORD.findall(text)}
    found: dict[str, _Name] = {}
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        start = match.start()
        # A sentence's first word that is an ordinary word too ("The Taliban", "While Iran"), or before
        # a name that also occurs without it ("Later Jane Doe"): not part of the name.
        if (len(words) > 1 and _SENTENCE_START.search(text[max(0, start - 8): start])
                and (words[0].lower() in lower_words or (len(words) > 2 and text.count(" ".join(words[1:])) > 1))):
            start = text.index(words[1], start + len(words[0]))
            words = words[1:]
        while words and words[-1] in ("of", "the"):
            words = words[:-1]
        if len(words) < 2 or any(w.isupper() and len(w) > 1 for w in words):  # not a name, or an acronym/caption
            continue
        phrase = " ".join(words)
        name = found.setdefault(phrase, _Name(phrase, first=start))
        name.count += 1
        after = text[match.end(): match.end() + 80]
        if match.group(0).endswith(words[-1]):
            name.described |= bool(_DESCRIBED.match(after))
            name.said |= bool(_SAID.match(after))
        name.after_the |= bool(_BEFORE_THE.search(text[max(0, start - 8): start]))
    return sorted(found.values(), key=lambda n: (-n.count, n.first))


def _document_questions(text: str) -> list[str]:
    """One document's questions, the kinds interleaved, best names first."""
    people: list[str] = []
    things: list[str] = []
    for name in _names(text[:MAX_DOCUMENT_CHARS]):
        if name.described:
            people.append(f"Who is {name.text}?")
        elif name.said and " of " not in f" {name.text} ":
            people.append(f"What did {name.text} say?")
        elif name.after_the:
            things.append(f"What is the {name.text}?")
    questions: list[str] = []
    for i in range(max(len(people), len(things))):
        questions.extend(kind[i] for kind in (people, things) if i < len(kind))
    return questions


def example_questions(documents: Sequence[tuple[str, str]], limit: int = 8) -> list[str]:
    """Up to `limit` example questions about `documents` ((name, text) pairs, in the order
    given), the documents taking turns; no duplicates. [] if no recurring name is found."""
    per_document = [_document_questions(text) for _, text in list(documents)[:MAX_DOCUMENTS]]
    questions: list[str] = []
    for i in range(max((len(q) for q in per_document), default=0)):
        for qs in per_document:
            if i < len(qs) and qs[i] not in questions:
                questions.append(qs[i])
                if len(questions) >= limit:
                    return questions
    return questions


def documents_line(sources: Sequence[str], shown: int = 6) -> str:
    """One line of HTML naming the loaded documents and how many: "3 documents: a.txt, b.md, c.pdf"
    (the first `shown` names, then "and N more")."""
    if not sources:
        return '<p class="qa-doc-line">No documents are indexed yet. Add some under <b>Documents</b>.</p>'
    count = "1 document" if len(sources) == 1 else f"{len(sources)} documents"
    names = ", ".join(f'<span class="qa-doc-name">{html.escape(s)}</span>' for s in sources[:shown])
    more = f" and {len(sources) - shown} more" if len(sources) > shown else ""
    return f'<p class="qa-doc-line"><b>{count} loaded:</b> {names}{more}</p>'
