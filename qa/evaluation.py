"""Measuring answer quality on a set of questions (used by `qa eval`, the tests and benchmarks).

Questions are JSON lines: {"question": str, "answers": [str], "evidence": str, "answerable": bool}.
`answers` are accepted answer strings; `evidence` the passage text that supports them.
"""

from __future__ import annotations

import json
import re
import statistics
import string
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .schema import Answer

_PUNCTUATION = frozenset(string.punctuation)


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    answers: list[str]
    evidence: str = ""
    answerable: bool = True
    id: str = ""

    @classmethod
    def from_dict(cls, rec: dict[str, Any]) -> "EvalQuestion":
        if not isinstance(rec.get("question"), str):
            raise ValueError("each line needs a 'question' string")
        answers = rec.get("answers", [])
        if isinstance(answers, str):
            answers = [answers]
        answerable = rec.get("answerable")
        answerable = bool(answers) if answerable is None else parse_flag(answerable, "answerable")
        return cls(question=rec["question"], answers=list(answers), evidence=rec.get("evidence", "") or "",
                   answerable=answerable, id=str(rec.get("id", "")))


_TRUE_WORDS = frozenset({"true", "yes", "1"})
_FALSE_WORDS = frozenset({"false", "no", "0"})


def parse_flag(value: object, name: str) -> bool:
    """A JSON boolean, or one of the strings true/false, yes/no, 1/0 (any case); ValueError otherwise.

    (bool("no") is True, so a string must never be read by truthiness.)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    shown = json.dumps(value, ensure_ascii=False, default=repr)
    raise ValueError(f"'{name}' must be true or false (or \"yes\"/\"no\", \"1\"/\"0\"), not {shown}")


@dataclass(frozen=True)
class EvalResult:
    question: EvalQuestion
    answer: Answer
    evidence_hit1: bool
    evidence_hit3: bool
    answer_hit: bool
    seconds: float


@dataclass
class EvalReport:
    results: list[EvalResult] = field(default_factory=list)

    @property
    def answerable(self) -> list[EvalResult]:
        return [r for r in self.results if r.question.answerable]

    @property
    def unanswerable(self) -> list[EvalResult]:
        return [r for r in self.results if not r.question.answerable]

    def metrics(self) -> dict[str, float]:
        ans, una = self.answerable, self.unanswerable
        lengths = [len(r.answer.text) for r in ans if r.answer.answered]
        out = {
            "questions": float(len(self.results)),
            "answerable": float(len(ans)),
            "unanswerable": float(len(una)),
            "evidence_hit@1": _rate(r.evidence_hit1 for r in ans),
            "evidence_hit@3": _rate(r.evidence_hit3 for r in ans),
            "answer_accuracy": _rate(r.answer_hit for r in ans),
            "answered_rate": _rate(r.answer.answered for r in ans),
            "no_answer_rate": _rate(not r.answer.answered for r in una),
            "median_answer_chars": float(statistics.median(lengths)) if lengths else 0.0,
            "median_ms": 1000 * statistics.median([r.seconds for r in self.results]) if self.results else 0.0,
        }
        return out

    def table(self) -> str:
        """The metrics as a Markdown table."""
        return comparison_table({"value": self})

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics(),
            "results": [
                {"question": asdict(r.question), "answer": r.answer.to_dict(), "evidence_hit@1": r.evidence_hit1,
                 "evidence_hit@3": r.evidence_hit3, "answer_hit": r.answer_hit}
                for r in self.results
            ],
        }


def _metric_rows(m: dict[str, float]) -> list[tuple[str, str]]:
    return [
        ("questions (answerable / unanswerable)", f"{int(m['questions'])} ({int(m['answerable'])} / {int(m['unanswerable'])})"),
        ("evidence hit@1", _pct(m["evidence_hit@1"])),
        ("evidence hit@3", _pct(m["evidence_hit@3"])),
        ("answer accuracy", _pct(m["answer_accuracy"])),
        ("answerable questions answered", _pct(m["answered_rate"])),
        ("unanswerable questions declined", _pct(m["no_answer_rate"])),
        ("median answer length (chars)", f"{m['median_answer_chars']:.0f}"),
        ("median ask() latency (ms)", f"{m['median_ms']:.1f}"),
    ]


def comparison_table(reports: dict[str, EvalReport]) -> str:
    """The metrics of several question sets as one Markdown table, a column per set."""
    columns = [_metric_rows(r.metrics()) for r in reports.values()]
    lines = ["| metric | " + " | ".join(reports) + " |", "| --- |" + " --- |" * len(reports)]
    for i, (label, _) in enumerate(columns[0]):
        lines.append(f"| {label} | " + " | ".join(col[i][1] for col in columns) + " |")
    return "\n".join(lines)


def _rate(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else float("nan")


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.1f}%"


def normalize(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').lower().split())


def contains_answer(text: str, answers: Iterable[str]) -> bool:
    """Whether any accepted answer string occurs in `text` (case and spacing folded)."""
    norm = normalize(text)
    return any(normalize(a) and normalize(a) in norm for a in answers)


def _squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation: lowercase, no punctuation, no articles."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


def span_f1(prediction: str, answers: Iterable[str]) -> float:
    """SQuAD's token F1 of a predicted answer span against the best accepted answer."""
    best = 0.0
    p = _squad_tokens(prediction)
    for answer in answers:
        t = _squad_tokens(answer)
        common = sum((Counter(p) & Counter(t)).values())
        if not p or not t:
            best = max(best, float(p == t))
        elif common:
            precision, recall = common / len(p), common / len(t)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def citation_supports(citation_text: str, quote: str, q: EvalQuestion) -> bool:
    """A citation hits the evidence when its quote overlaps the evidence text (or, with no
    evidence given, when its quote contains an accepted answer)."""
    if q.evidence:
        ev, qt = normalize(q.evidence), normalize(quote)
        return bool(qt) and (qt in ev or ev in qt or _overlap(ev, qt))
    return contains_answer(quote, q.answers)


def _overlap(a: str, b: str, min_chars: int = 40) -> bool:
    """True when a and b share a run of at least min_chars characters (quote vs evidence spans)."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) < min_chars:
        return short in long
    for i in range(0, len(short) - min_chars + 1, max(1, min_chars // 4)):
        if short[i : i + min_chars] in long:
            return True
    return False


def evaluate(ask: Callable[[str], Answer], questions: Iterable[EvalQuestion]) -> EvalReport:
    """Ask every question and score the answers."""
    report = EvalReport()
    for q in questions:
        t0 = time.perf_counter()
        answer = ask(q.question)
        dt = time.perf_counter() - t0
        cites = answer.citations if answer.answered else []
        hits = [citation_supports(c.text, c.quote, q) for c in cites]
        report.results.append(
            EvalResult(
                question=q,
                answer=answer,
                evidence_hit1=bool(hits[:1]) and hits[0],
                evidence_hit3=any(hits[:3]),
                answer_hit=answer.answered and contains_answer(answer.text, q.answers),
                seconds=dt,
            )
        )
    return report


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a JSON-lines question file; ValueError naming the bad line."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(EvalQuestion.from_dict(json.loads(line)))
            except (ValueError, TypeError, AttributeError) as exc:
                raise ValueError(f"{path}, line {n}: {exc}") from None
    if not out:
        raise ValueError(f"{path}: no questions found")
    return out
