"""Follow-up questions: rewrite a question only when it cannot stand alone (pure functions).

A question cannot stand alone when it holds a pronoun whose referent is not in the question
itself ("Who is he?", "What did they agree?"), a demonstrative used as a pronoun ("Why was
that?", "What happened there?"), or is an ellipsis ("And Pakistan?", "What about Herat?").
A complete question that happens to contain "its", "that" or "there" is left alone.

Pronouns are replaced by what they most likely point to: the name the previous question asked
about, or the previous answer's words when the previous question asked for them ("Who leads
the delegation?" - "Baradar" - "Where was he born?"). Anything else is asked together with the
previous question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERSONAL = frozenset("he him his she her hers".split())
THINGS = frozenset("it its they them their theirs".split())
DEMONSTRATIVES = frozenset("this that these those there then".split())
POSSESSIVES = frozenset("his its their hers".split())
DETERMINERS = frozenset("the a an this that these those his her its their my our your".split())
# After a demonstrative, these mean it stands for something ("Why did that happen?").
_PRONOUN_FOLLOWERS = frozenset(
    "is was were are 's mean means meant happen happened happens do does did say said cause caused "
    "lead led end ended start started".split()
)
# "Is it true that ...": an "it" before these stands for what follows, not for something said before.
_EXPLETIVE_FOLLOWERS = frozenset(
    "true false possible likely unlikely clear known said reported important necessary hard easy difficult "
    "fair right wrong".split()
)
_NOT_NAMES = frozenset(
    "i who whom whose what which when where why how is was are were did does do can could will would "
    "should has have had and or but the a an in on of to for by with from at as".split()
)
_TOKEN = re.compile(r"[^\W_][\w'’.-]*[^\W_]|[^\W_]|[^\w\s]")
_ELLIPSIS = re.compile(r"^\s*(and|also|what about|how about|and what about|and how about)\b", re.I)


@dataclass(frozen=True)
class Turn:
    """A previous question and the exact answer words it got ("" when none)."""

    question: str
    short: str = ""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _is_name(token: str, position: int) -> bool:
    return token[:1].isupper() and position > 0 and token.lower() not in _NOT_NAMES


def _has_referent(tokens: list[str], before: int) -> bool:
    """Whether something a pronoun could stand for comes before position `before`."""
    return _first_referent(tokens) < before


def _first_referent(tokens: list[str]) -> int:
    """The position of the first thing a pronoun could stand for (len(tokens) if none)."""
    for i, tok in enumerate(tokens):
        low = tok.lower()
        if _is_name(tok, i) or tok[:1].isdigit():
            return i
        if i > 0 and tokens[i - 1].lower() in DETERMINERS and tok[:1].isalpha() and low not in DETERMINERS:
            return i
    return len(tokens)


def _dangling(tokens: list[str]) -> list[int]:
    """Positions of pronouns (and pronoun-like demonstratives) with no referent before them."""
    out = []
    first_referent = _first_referent(tokens)  # once, not once per pronoun: linear in the question
    for i, tok in enumerate(tokens):
        low = tok.lower()
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if low in PERSONAL or low in THINGS:
            pronoun = not (low == "it" and nxt in _EXPLETIVE_FOLLOWERS)
        elif low in DEMONSTRATIVES:
            pronoun = not nxt[:1].isalnum() or nxt in _PRONOUN_FOLLOWERS
        else:
            continue
        if pronoun and first_referent >= i:
            out.append(i)
    return out


def needs_context(question: str) -> bool:
    """True when the question cannot be understood without the conversation before it."""
    tokens = _tokens(question)
    words = [t for t in tokens if t[:1].isalnum()]
    if not words:
        return False
    if len(words) <= 2 and len(question) < 30 or (_ELLIPSIS.match(question) and len(words) <= 6):
        return True
    return bool(_dangling(tokens))


def _name_phrase(text: str) -> str:
    """The longest run of capitalised words in `text` (its first word excluded), or ""."""
    tokens = _tokens(text)
    best: list[str] = []
    run: list[str] = []
    for i, tok in enumerate(tokens + ["."]):
        if _is_name(tok, i) and tok[:1].isalpha():
            run.append(tok)
        else:
            if len(run) > len(best):
                best = run
            run = []
    return " ".join(best)


def referent(previous: Turn, personal: bool) -> str:
    """What a pronoun most likely points to, from the previous question and its answer."""
    asked = _name_phrase(previous.question)
    first = previous.question.strip().split(" ", 1)[0].lower()
    answer_is_name = bool(previous.short) and previous.short[:1].isupper()
    if personal and first in {"who", "whom"} and not re.match(r"(?i)\s*who(m)? (is|was|are|were)\b", previous.question):
        if answer_is_name:
            return previous.short
    return asked or (previous.short if answer_is_name else "")


def resolve(question: str, history: list[Turn]) -> str:
    """The query to answer: `question` itself unless it leans on the last turn of `history`."""
    question = question.strip()
    if not history or not needs_context(question):
        return question
    previous = history[-1]
    tokens = _tokens(question)
    dangling = _dangling(tokens)
    if dangling and all(tokens[i].lower() in PERSONAL | THINGS for i in dangling):
        personal = any(tokens[i].lower() in PERSONAL for i in dangling)
        name = referent(previous, personal)
        # Each pronoun becomes the name: bound the growth by the last turn's own size, so a
        # question of many pronouns cannot multiply a long name into a huge query.
        if name and len(name) * len(dangling) <= 2 * (len(previous.question) + len(previous.short)) + 1:
            return _substitute(question, tokens, dangling, name)
    return f"{question} {previous.question.strip()}"


def _substitute(question: str, tokens: list[str], positions: list[int], name: str) -> str:
    """`question` with the pronouns at `positions` (token indices) replaced by `name`."""
    out, cursor, index = [], 0, 0
    targets = set(positions)
    for i, tok in enumerate(tokens):
        at = question.index(tok, cursor)
        if i in targets:
            low = tok.lower()
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            possessive = low in POSSESSIVES or (low == "her" and nxt[:1].isalpha())
            out.append(question[index:at] + (f"{name}'s" if possessive else name))
            index = at + len(tok)
        cursor = at + len(tok)
    out.append(question[index:])
    return "".join(out)
