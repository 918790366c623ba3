"""What kind of answer a question asks for, and whether the answer words the reader marked are one.

Pure functions, no model. `expected_kind(question)` reads the question's wh-phrase:

* "quantity": how many / how much / what percentage / how long, far, old ... (digits, number
  words, amounts; "how long" also accepts a duration);
* "time": when / what year, date, day, month, century / how soon (dates, years, months, days,
  times of day, "ago", durations, "after ..." / "before ...");
* "person": who / whom / whose (a capitalised name, or a phrase naming people or a body:
  "the displaced Afghan refugees", "some teachers"; not a bare common noun such as "water").
  "Who is <Name>?" asks what the person is, so any words will do;
* "place": where / in which city, country ... (a capitalised name or a location phrase);
* "name": what is the name of / what is X called (mostly capitalised words);
* "description": what is <Name>? (a description, not just another bare name).

`fits(kind, span)` says whether the marked words are that kind of thing. It errs towards
yes: it is a gate against answers of the wrong kind ("water" for "by how much ..."), not a
parser. On the SQuAD articles the reader trained on, the accepted answers fit their question's
kind in about 97% of the typed questions. Whatever the kind, words that only repeat the
question answer nothing (`echoes`).
"""

from __future__ import annotations

import re

from .text import tokenize

QUANTITY, TIME, PERSON, PLACE, NAME, DESCRIPTION = "quantity", "time", "person", "place", "name", "description"

_PLACE_NOUNS = (r"city|cities|country|countries|town|towns|state|states|region|regions|province|provinces|"
                r"area|areas|continent|location|locations|village|villages|county|district|nation|nations|island|"
                r"islands|port|capital|neighbou?rhood|site|venue|stadium|building|street|river|sea|ocean|"
                r"spot")
_QUESTION_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (NAME, re.compile(r"\bwhat\s+(?:is|was|are|were)\s+(?:the\s+|their\s+|its\s+|his\s+|her\s+)?(?:full\s+)?names?\s+of\b")),
    (QUANTITY, re.compile(r"\bhow\s+(?:many|much|long|far|old|large|big|tall|high|heavy|wide|deep|fast)\b|"
                          r"\b(?:what|which)\s+(?:percentage|percent|proportion|number|amount|share|fraction|"
                          r"price|cost|sum|size|population)\b")),
    (TIME, re.compile(r"^(?:(?:and|so|then|but|since|until|till|from|by|just)\s+)?when\b|\bhow\s+soon\b|\b(?:what|which)\s+(?:year|years|date|dates|day|days|"
                      r"month|months|century|centuries|decade|decades|time|era|season)\b")),
    (PLACE, re.compile(r"^(?:(?:and|so|then|but|from|to|just)\s+)?where\b|\b(?:what|which)\s+(?:" + _PLACE_NOUNS + r")\b")),
    (PERSON, re.compile(r"^(?:and\s+|so\s+|then\s+|but\s+)?(?:who|whom|whose)\b|\b(?:by|to|for|with|from|of)\s+whom\b|"
                        r"[,;]\s*(?:who|whom|whose)\b")),
]
# A leading clause before the question proper ("When the store opened, what ...").
_LEAD_CLAUSE = re.compile(r"^\W*(?:when|if|while|after|before|since|once|as|although|though|in addition to|apart from|"
                          r"besides|other than|aside from|regardless of|according to|in|on|at|during|for)\b[^,?]*,\s*")
# "Who is Mullah Abdul Ghani Baradar?": the answer is what the person is, not a name.
_WHO_IS_NAME = re.compile(r"^\W*(?i:who\s+(?:is|was|are|were)\s+)(?:[A-Z][\w'’.-]*\s*)+\??\s*$")
# "What is the Islamic Revolutionary Guard Corps?": a description of a named thing.
_WHAT_IS_NAME = re.compile(r"^\W*(?i:what\s+(?:is|was|are|were)\s+(?:the\s+)?)(?:[A-Z][\w'’.&-]*\s*)+\??\s*$")

_NUMBER_WORDS = (r"zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                 r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|"
                 r"thousands?|millions?|billions?|trillions?|dozens?|score|half|halves|quarter|third|twice|thrice|"
                 r"double|doubled|triple|tripled|quadrupled|several|few|many|couple|single|once|none|no|all|most|"
                 r"first|second|fourth|fifth|sixth|seventh|eighth|ninth|tenth|majority|minority|percent|per\s*cent")
_NUMBER = re.compile(r"\d|[½¼¾%$€£¥]|\b(?:" + _NUMBER_WORDS + r")\b", re.IGNORECASE)
_STRONG_NUMBER = re.compile(r"\d|[½¼¾%$€£¥]|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                            r"\w+teen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|"
                            r"millions?|billions?|trillions?|dozens?|percent|per\s*cent|twice|double|doubled|triple|"
                            r"tripled|half)\b", re.IGNORECASE)
_MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec")
_TIME = re.compile(r"\d|\b(?:" + _MONTHS + r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
                   r"today|yesterday|tomorrow|tonight|now|then|currently|recently|later|earlier|soon|ago|"
                   r"centur(?:y|ies)|decades?|years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
                   r"morning|evening|night|afternoon|noon|midnight|dawn|dusk|weekend|"
                   r"spring|summer|autumn|winter|season|christmas|easter|era|ages?|period|reign|times?|"
                   r"once|annually|yearly|daily|weekly|early|late|mid|after|before|during|until|till|since|"
                   r"following|prior|when|while|upon|bc|ad|bce|ce|am|pm)\b", re.IGNORECASE)
_DURATION = re.compile(r"\b(?:centur(?:y|ies)|decades?|years?|months?|weeks?|days?|hours?|minutes?|seconds?|ages|"
                       r"while|period|lifetime|generations?)\b", re.IGNORECASE)
# Words that name people or a body of people ("the displaced Afghan refugees", "his sons").
_PEOPLE = re.compile(r"\b(?:people|persons?|man|men|woman|women|child|children|kids?|boys?|girls?|family|families|"
                     r"father|mother|parents?|sons?|daughters?|brothers?|sisters?|wife|wives|husbands?|uncle|aunt|"
                     r"king|queen|prince|princess|emperor|lord|lady|sir|chief|leaders?|members?|staff|crew|team|"
                     r"government|army|forces|troops|police|public|class|group|party|committee|council|court|company|"
                     r"companies|church|board|ministry|office|officials?|authorities|administration|assembly|"
                     r"congress|parliament|senate|union|association|society|university|agency|firm|band|"
                     r"he|she|they|him|her|them|his|their|himself|herself|themselves|someone|somebody|everyone|"
                     r"nobody|anyone)\b", re.IGNORECASE)
# Agent nouns ("teachers", "the refugees"): only in a phrase; a bare word like "water" or "border" is none.
_AGENT = re.compile(r"\b\w{3,}(?:ers|ors|ists?|ians?|ants|ents|ees|ites|ans)\b", re.IGNORECASE)
_PLACE = re.compile(r"\b(?:in|at|on|near|from|to|into|inside|outside|across|throughout|within|between|along|"
                    r"north|south|east|west|northern|southern|eastern|western|central|abroad|overseas|home|here|"
                    r"there|everywhere|nowhere|worldwide|locally|nationally|internationally|" + _PLACE_NOUNS +
                    r"|border|coast|mountains?|valley|lake|field|line|house|home|hall|room|school|church|balcony|apartment|door|"
                    r"universit(?:y|ies)|hospital|facility|camp|base|headquarters|office|embassy|consulate|"
                    r"territory|territories|land|world|earth|space|moon|planet|kingdom|empire|republic)\b",
                    re.IGNORECASE)
# Capitalised words that are not names (a span at the start of a sentence begins with one).
_NOT_NAMES = {"the", "a", "an", "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "i",
              "his", "her", "their", "our", "my", "some", "many", "most", "all", "one", "in", "on", "at", "of",
              "for", "and", "but", "or", "as", "by", "with", "from", "to", "there", "here", "however", "although"}
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def expected_kind(question: str) -> str | None:
    """The kind of answer `question` asks for (one of the module's kinds), or None (any words do)."""
    q = " ".join(question.split())
    if _WHAT_IS_NAME.match(q):
        return DESCRIPTION
    if _WHO_IS_NAME.match(q):
        return None
    low = _LEAD_CLAUSE.sub("", q.lower(), count=1)
    for kind, pattern in _QUESTION_KINDS:
        if pattern.search(low):
            return kind
    return None


def _names(words: list[str]) -> list[str]:
    return [w for w in words if w[:1].isupper() and w.lower() not in _NOT_NAMES]


def fits(kind: str | None, span: str) -> bool:
    """Whether the answer words `span` are the kind of thing `kind` asks for (always, for no kind)."""
    if kind is None:
        return True
    span = " ".join(span.split())
    words = _WORD.findall(span)
    if not words:
        return False
    if kind == QUANTITY:
        return bool(_NUMBER.search(span) or _DURATION.search(span))
    if kind == TIME:
        return bool(_TIME.search(span))
    if kind == PERSON:
        return bool(_names(words) or _PEOPLE.search(span) or len(words) > 1 and _AGENT.search(span))
    if kind == PLACE:
        return bool(_names(words) or _PLACE.search(span))
    if kind == NAME:
        names = _names(words)
        content = [w for w in words if w.lower() not in _NOT_NAMES]
        return bool(names) and len(names) * 2 >= len(content) or len(content) <= 3 or bool(re.search(r"\d|[\"“‘']\w", span))
    if kind == DESCRIPTION:
        # A person's bare name ("General Soleimani") is no description; "the ... Executive" or "0.5" is.
        return any(w.islower() or w[:1].isdigit() for w in words)
    return True


def could_hold(kind: str | None, sentence: str, question: str = "") -> bool:
    """Whether a sentence holds words of `kind` besides the question's own (so that answer words of
    the wrong kind in it may be the reader's slip rather than a sentence that cannot answer: "1998"
    in "How many were killed in the 1998 massacre?" answers nothing). Only for the kinds whose words
    can be found without the question's help: a quantity, a time, a person, a place."""
    if kind not in (QUANTITY, TIME, PERSON, PLACE):
        return False
    asked = {w.lower() for w in _WORD.findall(question)}
    rest = " ".join(w for w in _WORD.findall(sentence) if w.lower() not in asked)
    if kind == QUANTITY:  # a sentence's "one of", "all", "most" are no amount; its digits and "eight" are
        return bool(_STRONG_NUMBER.search(rest))
    return fits(kind, rest)


# A question that asks yes or no: it opens with an auxiliary verb ("Can brackets nest?").
_YES_NO = re.compile(r"(?i)\s*(?:is|are|was|were|do|does|did|can|could|will|would|should|shall|may|might|must|"
                     r"has|have|had|isn't|aren't|doesn't|don't|didn't|can't|won't)\b")


def echoes(question: str, span: str) -> bool:
    """Whether the answer words `span` only repeat the question: each of its content words (stemmed)
    is one of the question's. Such words answer nothing: "Compression levels" for "What is the
    default compression level?" is a label, not a level. A yes-or-no question is answered in its
    own words ("Brackets do not nest" for "Can brackets nest?"): nothing echoes it."""
    words = set(tokenize(span))
    return bool(words) and words <= set(tokenize(question)) and not _YES_NO.match(question)
