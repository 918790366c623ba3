"""Follow-up questions: rewrite a question only when it cannot stand alone (pure functions).

A question cannot stand alone when it holds a pronoun whose referent is not in the question
itself ("Who is he?", "What did they agree?"), a demonstrative used as a pronoun ("Why was
that?", "What happened there?"), or is an ellipsis ("And Pakistan?", "What about Herat?").
A complete question that happens to contain "its", "that" or "there" is left alone.

How a follow-up is rewritten from the previous turn (`resolve`), so that it reads like a person's:

- **Pronouns** become a whole noun phrase, never a possessive modifier ("Iran's" is not a
  referent: in "Iran's foreign ministry" the phrase is about the ministry).
  - he/she/him/his/her: the previous answer's person when the previous question asked for a
    person (who/whom/whose, or "which/what <noun>") and the answer words are a name ("Who is the
    spokesperson ...?" - "Saeed Khatibzadeh" - "What did he say?"). Otherwise the person the
    previous question was about: what "Who is/was ...?" asked about ("Who is Mullah Abdul Ghani
    Baradar?", whatever the answer bolded), else the first name in it that is not in a place
    position (after in/at/from/between ...).
  - it/its/they/them/their: the previous question's subject: what a "... is/was <NP>?"
    question asks about ("How long is the border between Iran and Afghanistan?" -> "the border
    between Iran and Afghanistan"), the noun after "How many/much", else its first name phrase
    (with its "the"; a capitalised modifier takes its noun: "Afghan refugees").
  - there: "in <the last place the previous question named>" (or the answer of a "Where" question;
    "to" after a verb of motion: "move there" -> "move to Iran").
  A name phrase is a run of capitalised words, linked by "of"/"al-"/"bin" ... inside ("Ministry
  of Foreign Affairs"), never the question's first word; or an identifier as manuals write them
  ("--inspect", "fs.writeFile", "setImmediate", "max_old_space", "join()"), wherever it stands.
- **Ellipses** ("And X?", "What about X?", "How about X?", "Also X?") become the previous
  question with X put in place of the parallel part: a year replaces the last year ("How about
  in 2020?"), a number the last number, a name the last name phrase that is not the first word
  ("And Pakistan?" after "How long is the border between Iran and Afghanistan?" -> "How long is
  the border between Iran and Pakistan?"); with a preposition ("What about in Herat?") the last
  name after that preposition is preferred. A year with a preposition is added when the previous
  question had none. The two questions are never glued together.
- When no sensible rewrite exists, the question is asked as it stands.
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
# A word (with its inner dots, hyphens and apostrophes), an option with its dashes ("--inspect"),
# a call with its "()", or one other character.
_TOKEN = re.compile(r"-{1,2}(?=[^\W\d_])[\w.-]*[^\W_]|[^\W_][\w'’.-]*[^\W_](?:\(\))?|[^\W_]|[^\w\s]")
_CAMEL = re.compile(r"[a-z][A-Z]")
_ELLIPSIS = re.compile(r"^\s*(and|also|what about|how about|and what about|and how about)\b", re.I)
_ELLIPSIS_TAIL = re.compile(r"^\s*(?:and\s+(?:what|how)\s+about|what\s+about|how\s+about|and|also)\s+(.*?)[\s?.!]*$",
                            re.I | re.S)

_AUXILIARIES = frozenset(
    "is was are were be been did does do has have had will would can could should may might must".split()
)
_WH = frozenset("who whom whose what which when where why how".split())
# Words that join capitalised words into one name ("Ministry of Foreign Affairs", "bin Laden").
_NAME_LINKS = frozenset("of al bin ibn de del da van von".split())
# A name after one of these is a place (or a time), not the person a question is about.
_PLACE_PREPOSITIONS = frozenset("in at from to into between near across within inside outside and".split())
_LOCATIVE = frozenset("in at from to into near inside within".split())
_ARTICLES = frozenset("the a an".split())
_MOTION = frozenset("go goes went gone move moves moved come came return returned flee fled travel travelled "
                    "traveled send sent".split())
# Words after a copular subject that end it ("When was General Soleimani killed?").
_PARTICIPLES = frozenset("born killed known held made built located based seen done taken found given "
                         "signed formed founded called named".split())
# Not nouns: a capitalised word followed by one of these is a whole name, not a modifier.
_NOT_NOUNS = _NOT_NAMES | _AUXILIARIES | frozenset(
    "that this these those who whom which not also still now then there here said says about over against "
    "under after before during into between through towards toward among since like than".split()
)
_YEAR = re.compile(r"^(1[0-9]|20)[0-9]{2}s?$")
_ANSWER_WORDS_MAX = 8


@dataclass(frozen=True)
class Turn:
    """A previous question and the exact answer words it got ("" when none)."""

    question: str
    short: str = ""


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def low(self) -> str:
        return self.text.lower()


@dataclass(frozen=True)
class _Phrase:
    """A noun phrase of a question: characters [start, end) and its tokens [first, last]."""

    text: str
    start: int
    end: int
    first: int
    last: int
    possessive: bool = False  # followed by 's: a modifier of what follows, not a referent


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _spans(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _is_code(word: str) -> bool:
    """An identifier as manuals write them: an option ("--inspect", "-p"), a call ("join()"), a
    snake_case, camelCase or dotted name ("max_old_space", "setImmediate", "fs.writeFile"; not
    "e.g" or "1.5")."""
    if word.startswith("-") or word.endswith("()") or "_" in word or _CAMEL.search(word):
        return len(word) > 1
    return sum(len(part) >= 2 and part[0].isalpha() for part in word.split(".")) >= 2


def _is_name(token: str, position: int) -> bool:
    return (token[:1].isupper() and position > 0 and token.lower() not in _NOT_NAMES) or _is_code(token)


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


# --- noun phrases ---------------------------------------------------------------------------

def _possessive_stem(token: str) -> int:
    """The length of `token` without a possessive ending ("Iran's" -> 4), or 0 when it has none."""
    for suffix in ("'s", "’s", "s'", "s’"):
        if len(token) > len(suffix) and token.endswith(suffix):
            return len(token) - (2 if suffix[0] in "'’" else 1)
    return 0


def _capitalised(tok: _Token, i: int, first_allowed: bool) -> bool:
    word = tok.text
    if word.lower().startswith(("al-", "el-")) and len(word) > 3 or _is_code(word):  # "al-Qaeda", "--inspect"
        return True
    return word[:1].isupper() and word[:1].isalpha() and (i > 0 or first_allowed) and word.lower() not in _NOT_NAMES


def _names(text: str, spans: list[_Token], first_allowed: bool = False) -> list[_Phrase]:
    """The name phrases of `text`: runs of capitalised words (linked by "of", "bin" ...)."""
    out: list[_Phrase] = []
    i = 0
    while i < len(spans):
        if not _capitalised(spans[i], i, first_allowed):
            i += 1
            continue
        j = i
        while True:
            stem = _possessive_stem(spans[j].text)
            if stem:
                break
            if j + 1 < len(spans) and _capitalised(spans[j + 1], j + 1, first_allowed):
                j += 1
            elif (j + 2 < len(spans) and spans[j + 1].low in _NAME_LINKS
                  and _capitalised(spans[j + 2], j + 2, first_allowed)):
                j += 2
            else:
                break
        stem = _possessive_stem(spans[j].text)
        end = spans[j].start + stem if stem else spans[j].end
        out.append(_Phrase(text[spans[i].start:end], spans[i].start, end, i, j, possessive=bool(stem)))
        i = j + 1
    return out


def _whole(text: str, spans: list[_Token], name: _Phrase) -> _Phrase:
    """`name` as the whole noun phrase it heads: with its "the", and with its noun when the name is a
    modifier ("the Iranian public", "Afghan refugees", "Iran's foreign ministry"), unless it stands
    where a subject does ("did the Taliban occupy ...": "occupy" is a verb)."""
    first, last = name.first, name.last
    if first > 0 and spans[first - 1].low in _ARTICLES:
        first -= 1
    run = last + 1
    while (run < len(spans) and run - last <= 3 and spans[run].text[:1].islower() and spans[run].text.isalpha()
           and spans[run].low not in _NOT_NOUNS):
        run += 1
    before = spans[first - 1].low if first > 0 else ""
    # After "did"/"will" ... the last lowercase word is the verb; after "was" only when it is a participle
    # ("was the base closed", but "was the Mazar-i-Sharif massacre").
    subject_slot = before in _AUXILIARIES and (before not in {"is", "was", "are", "were"} or (
        run > last + 1 and (spans[run - 1].low in _PARTICIPLES or spans[run - 1].low.endswith("ed"))))
    nouns = run - last - 1  # lowercase words after the name
    if subject_slot:  # "did the Iranian public protest", "did Iran's ministry say": the last is the verb
        nouns -= 1
    elif not name.possessive:  # "Afghan refugees live in ...": a modifier takes one noun
        nouns = min(nouns, 1)
    if nouns <= 0:
        return name if name.first == first else _Phrase(text[spans[first].start:name.end], spans[first].start,
                                                         name.end, first, last, name.possessive)
    last += nouns
    start, end = spans[first].start, spans[last].end if last > name.last else name.end
    return _Phrase(text[start:end], start, end, first, last)


def _copular_subject(text: str, spans: list[_Token]) -> _Phrase | None:
    """What "<wh-words> is/was/are/were <noun phrase>?" asks about ("How long is the border between
    Iran and Afghanistan?" -> "the border between Iran and Afghanistan"), or None."""
    words = [t for t in spans if t.text[:1].isalnum()]
    if len(words) < 3 or words[0].low not in _WH:
        return None
    k = next((i for i, t in enumerate(words) if t.low in {"is", "was", "are", "were"}), None)
    if k is None or k > 3 or any(t.low not in _WH and not t.low.isalpha() for t in words[:k]):
        return None
    phrase = words[k + 1:]
    while phrase and (phrase[-1].low in _PARTICIPLES or (phrase[-1].low.endswith("ed") and len(phrase) > 1
                                                          and phrase[-1].text[:1].islower())):
        phrase = phrase[:-1]
    if not phrase or len(phrase) > 12 or any(t.low in PERSONAL | THINGS | _WH | _AUXILIARIES for t in phrase):
        return None
    if not (phrase[0].low in _ARTICLES or _capitalised(phrase[0], 1, True)):
        return None
    first, last = spans.index(phrase[0]), spans.index(phrase[-1])
    return _Phrase(text[phrase[0].start:phrase[-1].end], phrase[0].start, phrase[-1].end, first, last)


def _how_many_subject(text: str, spans: list[_Token]) -> _Phrase | None:
    """The noun of "How many/much <Capitalised modifiers> <noun> ..." ("Afghan refugees")."""
    if len(spans) < 3 or spans[0].low != "how" or spans[1].low not in {"many", "much"}:
        return None
    j = 2
    while j < len(spans) and _capitalised(spans[j], j, False):
        j += 1
    if j < len(spans) and spans[j].text.isalpha() and spans[j].text.islower() and spans[j].low not in _NOT_NOUNS:
        return _Phrase(text[spans[2].start:spans[j].end], spans[2].start, spans[j].end, 2, j)
    return None


def _answer_name(short: str) -> str:
    """The answer words when they are a name ("Saeed Khatibzadeh"), else ""."""
    spans = _spans(short.strip())
    if not spans or len(spans) > _ANSWER_WORDS_MAX:
        return ""
    names = _names(short.strip(), spans, first_allowed=True)
    if names and names[0].first == 0 and not names[0].possessive and names[0].last >= len(
            [t for t in spans if t.text[:1].isalnum()]) - 1:
        return names[0].text
    return ""


def _asks_for_person(spans: list[_Token]) -> bool:
    if not spans:
        return False
    first = spans[0].low
    return first in {"who", "whom", "whose"} or (
        first in {"which", "what"} and len(spans) > 1 and spans[1].text.isalpha() and spans[1].low not in _NOT_NOUNS)


def _person(previous: Turn) -> str:
    """Who he/she stands for after `previous` ("" when nobody)."""
    text = previous.question.strip()
    spans = _spans(text)
    subject = _copular_subject(text, spans) if spans and spans[0].low in {"who", "whom"} else None
    names = _names(text, spans)
    asked_a_name = subject is not None and any(n.start == subject.start and n.end == subject.end for n in names)
    if _asks_for_person(spans) and not asked_a_name:
        answer = _answer_name(previous.short)
        if answer:
            return answer
    if subject is not None:
        return subject.text
    for name in names:
        before = spans[name.first - 1].low if name.first > 0 else ""
        if not name.possessive and before not in _PLACE_PREPOSITIONS:
            return _whole(text, spans, name).text
    return ""


def _thing(previous: Turn, plural: bool) -> str:
    """What it/they stand for after `previous`: the previous question's subject ("" when none).
    They/them/their prefer a plural: "How many <noun>", a subject after are/were, "Iran and
    Afghanistan"; it/its a subject after is/was."""
    text = previous.question.strip()
    spans = _spans(text)
    subject = _copular_subject(text, spans)
    if subject is not None and plural != (spans[subject.first - 1].low in {"are", "were"}):
        subject = None
    if subject is None and plural:
        subject = _how_many_subject(text, spans)
    if subject is not None:
        return subject.text
    names = [w for w in (_whole(text, spans, n) for n in _names(text, spans)) if not w.possessive]
    if plural:
        for a, b in zip(names, names[1:]):
            if b.first == a.last + 2 and spans[a.last + 1].low == "and":
                return text[a.start:b.end]
    return names[0].text if names else _answer_name(previous.short)


def _place(previous: Turn) -> str:
    """The last place named in `previous` (after in/at/from ...), or a "Where" question's answer."""
    text = previous.question.strip()
    spans = _spans(text)
    if spans and spans[0].low == "where":
        answer = _answer_name(previous.short)
        if answer:
            return answer
    places = [n for n in _names(text, spans) if n.first > 0 and spans[n.first - 1].low in _LOCATIVE]
    return _whole(text, spans, places[-1]).text if places else ""


def referent(previous: Turn, personal: bool, plural: bool = False) -> str:
    """What a pronoun most likely points to, from the previous question and its answer: a whole
    noun phrase, never a possessive fragment ("" when nothing sensible)."""
    return _person(previous) if personal else _thing(previous, plural)


# --- rewriting ------------------------------------------------------------------------------

def resolve(question: str, history: list[Turn]) -> str:
    """The query to answer: `question` itself unless it leans on the last turn of `history`
    and a sensible rewrite exists (see the module's doc)."""
    question = question.strip()
    if not history or not needs_context(question):
        return question
    previous = history[-1]
    ellipsis = _ELLIPSIS_TAIL.match(question)
    if ellipsis and ellipsis.group(1):
        tail = ellipsis.group(1).strip()
        head = _tokens(tail)[:1]
        if head and head[0].lower() not in _WH | _AUXILIARIES:
            return _replace_parallel(previous.question.strip(), tail) or question
    tokens = _tokens(question)
    dangling = _dangling(tokens)
    if not dangling:
        return question
    names: dict[int, str] = {}
    found: dict[tuple[bool, bool] | str, str] = {}  # each kind of referent is found once, however many pronouns
    for i in dangling:
        low = tokens[i].lower()
        if low in PERSONAL or low in THINGS:
            kind = (low in PERSONAL, low in {"they", "them", "their", "theirs"})
            if kind not in found:
                found[kind] = referent(previous, *kind)
            names[i] = found[kind]
        elif low == "there":
            if "there" not in found:
                found["there"] = _place(previous)
            before = tokens[i - 1].lower() if i > 0 else ""
            to = "to" if before in _MOTION else "in"  # "move there" -> "move to Iran"
            names[i] = found["there"] if before in _LOCATIVE or not found["there"] else f"{to} {found['there']}"
        else:
            return question  # "Why did that happen?": no noun phrase to put there
    # Each pronoun becomes the name: bound the growth by the last turn's own size, so a
    # question of many pronouns cannot multiply a long name into a huge query.
    if all(names.values()) and sum(map(len, names.values())) <= 2 * (
            len(previous.question) + len(previous.short)) + 1:
        return _substitute(question, tokens, names)
    return question


def _substitute(question: str, tokens: list[str], names: dict[int, str]) -> str:
    """`question` with the pronoun at each position of `names` (token indices) replaced by its name."""
    out, cursor, index = [], 0, 0
    for i, tok in enumerate(tokens):
        at = question.index(tok, cursor)
        if i in names:
            name = names[i]
            low = tok.lower()
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            possessive = low in POSSESSIVES or (low == "her" and nxt[:1].isalpha())
            if tok[:1].isupper():
                name = name[:1].upper() + name[1:]
            out.append(question[index:at] + (f"{name}'s" if possessive else name))
            index = at + len(tok)
        cursor = at + len(tok)
    out.append(question[index:])
    return "".join(out)


def _replace_parallel(previous: str, tail: str) -> str:
    """`previous` with `tail` in place of its part of the same kind, or "" when it has none."""
    spans = _spans(tail)
    if len([t for t in spans if t.text[:1].isalnum()]) > 6:
        return ""
    preposition = ""
    if len(spans) > 1 and spans[0].text.islower() and spans[0].low in _LOCATIVE | {"on", "during", "for", "with",
                                                                                  "since", "by", "before", "after"}:
        preposition, spans = spans[0].low, spans[1:]
    core = tail[spans[0].start:spans[-1].end] if spans else ""
    if not core:
        return ""
    before = _spans(previous)
    if len(spans) == 1 and (_YEAR.match(core) or core.isdigit()):
        kind = _YEAR.match if _YEAR.match(core) else str.isdigit
        same = [t for t in before if kind(t.text)]
        if same:
            t = same[-1]
            return previous[:t.start] + core + previous[t.end:]
        if preposition and _YEAR.match(core):  # "How about in 2020?": the year is a new condition
            body = previous.rstrip(" ?.!")
            return f"{body} {preposition} {core}{previous[len(body):]}"
        return ""
    if spans[0].low in _ARTICLES:
        article, spans = spans[0].text, spans[1:]
    else:
        article = ""
    tail_names = _names(tail, spans, first_allowed=True) if spans else []
    if not tail_names or tail_names[0].first != 0 or tail_names[0].last != len(spans) - 1:
        return ""  # "And the refugees?": not a name, no parallel part to find
    name = tail_names[0].text
    targets = [n for n in _names(previous, before) if n.first > 0]
    if not targets or any(n.text.lower() == name.lower() for n in targets):
        return ""
    if preposition:
        targets = [n for n in targets if before[n.first - 1].low == preposition] or targets
    target = targets[-1]
    has_article = target.first > 0 and before[target.first - 1].low in _ARTICLES
    # "the Taliban" -> "Pakistan", but "the Mazar-i-Sharif massacre" -> "the Herat massacre".
    modifier = _whole(previous, before, target).last > target.last
    start = before[target.first - 1].start if has_article and (article or not modifier) else target.start
    new = f"{article} {name}" if article else name
    return previous[:start] + new + previous[target.end:]
