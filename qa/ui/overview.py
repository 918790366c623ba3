"""What a newcomer sees first: which documents are loaded, and example questions drawn from
the documents themselves (pure: names and texts in, HTML and questions out).

The names that recur in the documents make the questions: a capitalised phrase of two or
more words (e.g. "Ahmad Massoud", "National Resistance Front"), less a first word that starts
a sentence and also occurs in lower case ("The", "While") or before a name found without it.

What kind of thing a name is picks the wh-word (`entity_kind`, no language model: a small
score from cues in the name and in the text around its mentions):

- person: "Who is X?", and "What did X say?" when X is followed by "said"/"says"/"told" (first
  when the text does not describe X);
- place: "What is X?" when the text describes it ("X, the highest mountain in …"), else
  "Where is X?";
- organisation or thing: "What is the X?" (when the text writes "the X", or the name's head takes
  it: "the Northern Alliance", "the Ministry of …") or "What is X?" ("Greenleaf Ltd");
- no kind clear enough: "What does the document say about X?".

Names are ranked by how often they occur (then by first mention), the kinds are interleaved
and documents take turns, so the examples are varied. The result is deterministic. The UI
(`Controller.example_questions`) shows only those the assistant answers with high confidence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["documents_line", "entity_kind", "example_questions"]

MAX_DOCUMENT_CHARS = 200_000  # of each document's text
MAX_DOCUMENTS = 30

_WORD = r"[A-Z][^\W_]*(?:-[^\W_]+)*"
_NAME = re.compile(rf"\b{_WORD}(?:[ \t]+(?:of[ \t]+(?:the[ \t]+)?)?{_WORD})*")
_LOWER_WORD = re.compile(r"\b[a-z][^\W_]*(?:-[^\W_]+)*")
_DESCRIBED = re.compile(r",[ \t]+(?:an?|the|[A-Z][^\W\d_]+)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n][\"'\u201c\u2018(\s]*)$")
_SAID = re.compile(r"[ \t]+(?:said|says|told)\b")
_BEFORE_THE = re.compile(r"(?:^|[^\w])the[ \t]+$", re.IGNORECASE)

# ---- what kind of thing a name is ---------------------------------------------------------
#
# Each kind (person, place, organisation, thing) gets points from cues; the best kind wins if it
# has at least `_SURE` points and more than any other, else the kind is "" (unknown). Cues in the
# name count once; a cue in the text counts once per name however often it occurs, so a name
# mentioned often is not typed by its frequency.
#
# In the name (3 points): a title first ("General Soleimani", "Mullah Omar"); the head word, the
# last word or the one before "of", names a place ("Hudson River", "City of London") or an
# organisation ("Revolutionary Guard Corps", "Ministry of Foreign Affairs") or a thing ("Treaty
# of Versailles"). 2 points: a title inside the name ("Foreign Minister Mohammad Javad Zarif"); a
# first word that starts place names ("New York", "Mont Blanc", "Lake Geneva"), weaker than a head
# ("New York University" is an organisation).
#
# Around a mention: a title before it ("Dr. Jane Doe", "President Jane Doe": 3, person); a
# description after a comma whose first noun is a role (or ends in "-ist"), a kind of place, of
# organisation or of thing ("X, a former member of …", "X, the highest mountain in …", "X, a
# company that …": 3);
# "said/told/asked/was born/died/, who" after it (2, person); "He"/"She" starting the next
# sentence (1, person); "in/at/near/across …" before it (1, place); "city of/capital of" before or
# "'s capital"/"-based" after (2, place); "member(s) of/joined/founder of" before or "was
# founded" after (2, organisation). Written after "the": 2 points off person.

_SURE = 2

_TITLES = frozenset("""mr mrs ms miss dr prof professor president vice-president general gen colonel col
captain capt major lieutenant lt sergeant admiral commander minister senator sen rep governor gov mayor
judge justice king queen prince princess sir dame lord lady pope sheikh mullah ayatollah imam rabbi
chancellor premier ambassador emperor empress sultan emir tsar czar archbishop bishop cardinal
reverend rev saint""".split())
_ROLE_NOUNS = frozenset("""spokesperson spokesman spokeswoman member leader minister president commander
founder co-founder director head chief official officer author writer poet novelist actor actress singer
musician son daughter wife husband mother father brother sister uncle aunt cousin widow professor scientist
engineer doctor physician lawyer politician diplomat envoy ambassador general soldier king queen prince
princess ceo chairman chairwoman chairperson secretary governor mayor activist journalist reporter student
teacher player coach artist painter composer philosopher historian economist businessman businesswoman
entrepreneur inventor explorer pilot priest bishop monk nun cleric mullah imam emir sultan emperor
spokesman""".split())
_PLACE_NOUNS = frozenset("""city town village capital country state province region district county
mountain peak summit volcano river lake island islands valley desert sea ocean bay port harbour harbor
nation republic kingdom continent peninsula area neighbourhood neighborhood suburb borough metropolis
territory border landmark glacier canyon plateau coast beach forest park square street road avenue
airport station""".split())
_ORG_NOUNS = frozenset("""company firm corporation business organisation organization group party agency
ministry department university college school committee council movement militia army navy force forces
alliance union association institute foundation charity bank newspaper magazine broadcaster network body
club team band coalition government faction regime brand manufacturer publisher startup nonprofit""".split())
_THING_NOUNS = frozenset("""war battle treaty agreement accord deal act law bill book novel film movie
play song album poem painting festival event conference summit prize award operation project programme
program report ship mission revolution uprising crisis disaster language religion""".split())

_PLACE_FIRST = frozenset("""mount mt mont monte lake loch cape fort port new san santa los las isle glen
north south east west upper lower greater""".split())
_PLACE_HEADS = frozenset("""river city lake province county street avenue road lane boulevard island islands
valley bay sea ocean mountain mountains alps hills hill falls desert peninsula gulf strait canal park
square bridge coast forest region district town village heights harbour harbor beach canyon glacier
plateau basin delta creek states kingdom republic emirates territory territories""".split())
_ORG_HEADS = frozenset("""inc ltd llc plc corp corporation corps company co ministry party university
college committee council organization organisation association agency department bank group front
alliance army navy force forces guard guards union institute foundation society court parliament
assembly commission bureau office federation league movement church club network board service services
authority school hospital museum academy brigade police times post press news airlines industries
holdings systems technologies laboratories labs trust fund coalition congress senate cabinet government
administration militia""".split())
_THING_HEADS = frozenset("""war treaty act agreement accord declaration revolution battle prize award
olympics games cup festival conference summit constitution bill operation project programme program
protocol convention doctrine plan""".split())
_PLURAL_PLACES = frozenset("alps hills falls islands mountains emirates heights territories".split())

_TITLE_BEFORE = re.compile(r"\b([A-Za-z][A-Za-z-]*)\.?[ \t]+$")
_PERSON_AFTER = re.compile(r"(?:[ \t]+|,[ \t]+)(?:said|says|told|tells|asked|added|explained|wrote|replied|"
                           r"recalled|was[ \t]+born|is[ \t]+born|died|married|who)\b")
_NEXT_SENTENCE = re.compile(r"[.!?][\"'\u201d\u2019)]?\s+([A-Z][a-z]*)")
_PLACE_BEFORE = re.compile(r"\b(?:in|at|near|across|outside|inside|throughout|within)[ \t]+(?:the[ \t]+)?$",
                           re.IGNORECASE)
_PLACE_OF_BEFORE = re.compile(r"\b(?:city|town|village|capital|state|province|county|region|island|port)[ \t]+"
                              r"of[ \t]+(?:the[ \t]+)?$", re.IGNORECASE)
_PLACE_AFTER = re.compile(r"(?:['\u2019]s[ \t]+capital|-based)\b")
_ORG_BEFORE = re.compile(r"\b(?:members?|joined|founders?|co-founders?)[ \t]+(?:of[ \t]+)?(?:the[ \t]+)?$",
                         re.IGNORECASE)
_ORG_AFTER = re.compile(r",?[ \t]+(?:was|were|is)[ \t]+founded\b|,[ \t]+founded[ \t]+in\b")
# After a comma: a determiner or possessive, up to three more words and the noun ("a former member",
# "the highest mountain", "Iran's foreign ministry"), or the noun first ("Spokesperson of").
_DESCRIPTION = re.compile(r",[ \t]+((?:(?:an?|the|one|its|his|her|their|[^\W\d_]+['\u2019]s)[ \t]+"
                          r"(?:[^\W\d_][\w-]*[ \t]+){0,3})?[^\W\d_][\w-]*)", re.IGNORECASE)
_KINDS = ("person", "place", "organisation", "thing")


def _head_words(words: list[str]) -> list[str]:
    """The words that head a name: the last, and the one before each "of" ("Ministry of …")."""
    heads = [words[-1]]
    heads += [words[i - 1] for i, w in enumerate(words) if w == "of" and i > 0]
    return [h.lower() for h in heads]


def _name_cues(name: str) -> dict[str, int]:
    words = name.split()
    score = dict.fromkeys(_KINDS, 0)
    first = words[0].lower().rstrip(".")
    heads = _head_words(words)
    if first in _TITLES and len(words) > 1:
        score["person"] += 3
    elif any(w.lower() in _TITLES and nxt != "of" for w, nxt in zip(words[1:-1], words[2:])):
        score["person"] += 2  # "Foreign Minister Mohammad Javad Zarif"
    if any(h in _PLACE_HEADS for h in heads):
        score["place"] += 3
    if any(h in _ORG_HEADS for h in heads):
        score["organisation"] += 3
    if any(h in _THING_HEADS for h in heads):
        score["thing"] += 3
    if first in _PLACE_FIRST and len(words) > 1:
        score["place"] += 2
    return score


def _description_kind(after: str) -> str:
    """The kind a description after a comma names by its first noun ("a former member of" -> person)."""
    m = _DESCRIPTION.match(after)
    if not m:
        return ""
    words = m.group(1).lower().split()
    for word in words[1:] if len(words) > 1 else words:  # more than one: the first is the determiner
        if word in _ROLE_NOUNS or (len(word) > 5 and word.endswith("ist")):
            return "person"
        singular = word[:-1] if word.endswith("s") else word
        for kind, nouns in (("place", _PLACE_NOUNS), ("organisation", _ORG_NOUNS), ("thing", _THING_NOUNS)):
            if word in nouns or singular in nouns:
                return kind
    return ""


@dataclass
class _Name:
    text: str
    count: int = 0
    first: int = 0
    described: bool = False
    said: bool = False
    after_the: bool = False
    cues: set[tuple[str, int, str]] = field(default_factory=set)  # (kind, points, cue): each counted once

    def kind(self) -> str:
        score = _name_cues(self.text)
        for kind, points, _ in self.cues:
            score[kind] += points
        if self.after_the:
            score["person"] -= 2
        best = max(_KINDS, key=lambda k: score[k])
        if score[best] >= _SURE and all(score[k] < score[best] for k in _KINDS if k != best):
            return best
        return ""


def _mention_cues(text: str, start: int, end: int) -> set[tuple[str, int, str]]:
    """The cues around one mention text[start:end] (see the table above)."""
    before = text[max(0, start - 40): start]
    after = text[end: end + 200]
    cues: set[tuple[str, int, str]] = set()
    title = _TITLE_BEFORE.search(before)
    if title and title.group(1).lower() in _TITLES:
        cues.add(("person", 3, "title"))
    described = _description_kind(after)
    if described:
        cues.add((described, 3, "description"))
    if _PERSON_AFTER.match(after):
        cues.add(("person", 2, "verb"))
    nxt = _NEXT_SENTENCE.search(after)
    if nxt and nxt.group(1) in ("He", "She"):
        cues.add(("person", 1, "pronoun"))
    if _PLACE_BEFORE.search(before):
        cues.add(("place", 1, "preposition"))
    if _PLACE_OF_BEFORE.search(before) or _PLACE_AFTER.match(after):
        cues.add(("place", 2, "capital"))
    if _ORG_BEFORE.search(before) or _ORG_AFTER.match(after):
        cues.add(("organisation", 2, "members"))
    return cues


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
        end = text.index(words[-1], start) + len(words[-1])
        after = text[end: end + 80]
        if match.group(0).endswith(words[-1]):
            name.described |= bool(_DESCRIBED.match(after))
            name.said |= bool(_SAID.match(after))
        name.after_the |= bool(_BEFORE_THE.search(text[max(0, start - 8): start]))
        name.cues |= _mention_cues(text, start, end)
    return sorted(found.values(), key=lambda n: (-n.count, n.first))


def entity_kind(name: str, text: str) -> str:
    """What `name` is in `text`: "person", "place", "organisation", "thing", or "" when no kind is
    clear (see the cues above). `name` as it is written in the text ("Mont Blanc")."""
    for found in _names(text[:MAX_DOCUMENT_CHARS]):
        if found.text == name:
            return found.kind()
    return _Name(name).kind()


# Heads of organisation names said without "the" ("Acme Inc"); the others take it ("the Northern
# Alliance", "the Ministry of Foreign Affairs"), as do names the text writes after "the".
_NO_THE_HEADS = frozenset("inc ltd llc plc corp co corporation company group industries holdings systems "
                          "technologies labs airlines".split())


def _question(name: _Name, kind: str) -> str:
    heads = _head_words(name.text.split())
    the = "the " if name.after_the or (kind in ("organisation", "thing") and heads[-1] not in _NO_THE_HEADS
                                        and any(h in _ORG_HEADS or h in _THING_HEADS for h in heads)) else ""
    if kind == "person":
        return f"Who is {name.text}?"
    if kind == "place":
        if name.described:
            return f"What is {name.text}?"
        verb = "are" if name.text.split()[-1].lower() in _PLURAL_PLACES else "is"
        return f"Where {verb} {the}{name.text}?"
    if kind in ("organisation", "thing"):
        return f"What is {the}{name.text}?"
    return f"What does the document say about {the}{name.text}?"


def _document_questions(text: str) -> list[str]:
    """One document's questions: people and the rest interleaved, best names first (a person who is
    not described but said something: "What did X say?"), then the other question about each person,
    then the names of no clear kind."""
    people: list[str] = []
    things: list[str] = []
    sayings: list[str] = []
    unclear: list[str] = []
    asked: list[set[str]] = []
    for name in _names(text[:MAX_DOCUMENT_CHARS]):
        words = set(name.text.split())
        if any(words <= other or other <= words for other in asked):
            continue  # "General Qasem Soleimani" after "General Soleimani": the same one, asked about once
        asked.append(words)
        kind = name.kind()
        if kind == "person":
            said = f"What did {name.text} say?"
            if name.said and not name.described:  # what they said is what the text is sure to hold
                people.append(said)
                sayings.append(_question(name, kind))
            else:
                people.append(_question(name, kind))
                if name.said:
                    sayings.append(said)
        elif kind:
            things.append(_question(name, kind))
        elif name.described or name.said or name.after_the:
            unclear.append(_question(name, kind))
    questions: list[str] = []
    for i in range(max(len(people), len(things))):
        questions.extend(kind[i] for kind in (people, things) if i < len(kind))
    return questions + sayings + unclear


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
