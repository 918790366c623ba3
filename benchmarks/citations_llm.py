"""Citation precision and recall of model-written answers, raw markers against checked ones (ALCE-style).

    python benchmarks/citations_llm.py [--n 400] [--data DIR] [--json out.json]

No model server is needed: the "model-written" answers are built, with known support, from
held-out SQuAD questions (seed 0) asked of the product's SQuAD index (the reader never trained
on them, nor was the support check fitted on them). For each question whose gold sentence
(the one holding the answer) is among the sentences the model would be shown:

* one sentence restating the gold sentence (its words around the answer, or the question
  with the answer), cited to the gold sentence (70%), to another shown sentence (15%, a
  wrong citation), or not at all (15%, a missing marker);
* in 30% of answers, a second sentence with an invented fact: the same claim with another
  answer of the article put in, cited to the gold sentence;
* in 20% of answers, a plausible sentence from another paragraph of the article (that does
  not hold the answer), cited to the gold sentence.

A marker is correct when it is on a restating sentence and points to the gold sentence (or to
another shown sentence that also holds an accepted answer). Citation precision: correct
markers / all markers. Citation recall: restating sentences with a correct marker / all
restating sentences. "Raw" scores the markers as built; "checked" the markers
`qa.generate.checked_answer` keeps, moves or removes.

Those claims are made the way the support check's training pairs are (on other articles), so
the table also scores the check on 24 hand-written claims about the bundled article
(tests/data/article_claims.jsonl: reworded statements, and invented facts, contradictions and
wrong citations, as a language model writes them), which no template made.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))
from common import (  # noqa: E402
    CACHE,
    add_data_arg,
    bench_settings,
    data_dir,
    file_sha,
    index_key,
    load_squad,
    log,
    md_table,
    open_assistant,
    pct,
    squad_path,
    squad_seeds,
    write_json,
)
from train_support import question_claim, window_claim  # noqa: E402

from qa import writing  # noqa: E402
from qa.chunking import split_sentences  # noqa: E402
from qa.generate import checked_answer  # noqa: E402
from qa.reader import reader_card  # noqa: E402
from qa.support import SUPPORTED, load_support, support_card  # noqa: E402

CLAIMS = Path(__file__).resolve().parents[1] / "tests" / "data" / "article_claims.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--n", type=int, default=400, help="held-out questions sampled (seed 0); default 400")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    data = data_dir(args.data)
    rng = random.Random(0)

    articles = load_squad(data)
    heldout = set(reader_card()["heldout_articles"]) & set(support_card()["heldout_articles"])
    questions = [q for a in articles if a.title in heldout for q in a.questions]
    sample = rng.sample(questions, min(args.n, len(questions)))
    settings = bench_settings()
    seeds = squad_seeds(data, articles)
    bot, _ = open_assistant(seeds, CACHE / "squad" / f"index-{index_key(file_sha(squad_path(data)), settings)}",
                            settings, "squad")
    answers_of: dict[str, list[str]] = {}
    for q in questions:
        answers_of.setdefault(q.source, []).extend(q.answers[:1])

    raw = {"markers": 0, "correct": 0, "restating": 0, "restating_cited": 0}
    checked = dict(raw)
    used = misread = 0
    for q in sample:
        trace = bot.explain(q.question)
        shown = writing.sources(trace.candidates)
        holds = [any(a.lower() in c.text.lower() for a in q.answers) and c.source == q.source for c in shown]
        if not any(holds) or not q.answers:
            continue
        gold_n = holds.index(True) + 1
        gold = shown[gold_n - 1]
        answer = next(a for a in q.answers if a.lower() in gold.text.lower())
        at = gold.text.lower().index(answer.lower())
        claim = (window_claim(gold.text, at, at + len(answer)) if rng.random() < 0.5
                 else question_claim(q.question, gold.text[at:at + len(answer)]))
        roll = rng.random()
        wrong = [n for n in range(1, len(shown) + 1) if not holds[n - 1]]
        marker = gold_n if roll < 0.7 or not wrong else (rng.choice(wrong) if roll < 0.85 else None)
        parts = [(claim, marker, True)]
        others = [a for a in answers_of[q.source] if a.lower() not in gold.text.lower() and a.strip()]
        if rng.random() < 0.3 and others and answer in claim:
            parts.append((claim.replace(answer, rng.choice(others), 1), gold_n, False))
        if rng.random() < 0.2:
            article = next(a for a in articles if a.source == q.source)
            pool = [s.text for s in split_sentences(article.text) if not any(x.lower() in s.text.lower()
                                                                            for x in q.answers)]
            if pool:
                parts.append((rng.choice(pool).strip(), gold_n, False))
        text = " ".join(f"{c.rstrip()}" + (f" [{m}]" if m else "") for c, m, _ in parts)
        result = checked_answer(trace, bot.data, text, drop_unsupported=False)
        if len(result.written) != len(parts):  # a built sentence the splitter reads as two: not scored
            misread += 1
            continue
        used += 1
        for claim_text, m, restates in parts:
            raw["markers"] += m is not None
            raw["correct"] += bool(restates and m is not None and holds[m - 1])
            raw["restating"] += restates
            raw["restating_cited"] += bool(restates and m is not None and holds[m - 1])
        quotes = {c.number: c.quote for c in result.citations}
        for (_, _, restates), written in zip(parts, result.written):
            good = [n for n in written.citations if any(a.lower() in quotes[n].lower() for a in q.answers)]
            checked["markers"] += len(written.citations)
            checked["correct"] += len(good) if restates else 0
            checked["restating"] += restates
            checked["restating_cited"] += bool(restates and good)
        if used % 100 == 0:
            log(f"[citations] {used} answers")

    def scores(t: dict[str, int]) -> tuple[float, float]:
        return t["correct"] / max(1, t["markers"]), t["restating_cited"] / max(1, t["restating"])

    (rp, rr), (cp, cr) = scores(raw), scores(checked)
    hand = [json.loads(line) for line in CLAIMS.read_text(encoding="utf-8").splitlines() if line.strip()]
    judged = [load_support().probabilities(h["claim"], [h["sentence"]], [h["before"]])[0] >= SUPPORTED for h in hand]
    right = sum(j == h["supported"] for j, h in zip(judged, hand))
    accepted_true = sum(j and h["supported"] for j, h in zip(judged, hand))
    print("\n".join([
        "## Citations of model-written answers: raw markers vs checked (SQuAD held-out, built with known support)",
        "",
        f"{used} answers ({raw['restating']} restating sentences, {raw['markers']} raw markers) from {len(sample)} "
        f"sampled questions whose gold sentence was among the shown sentences ({misread} more left out: a built "
        "sentence that the sentence splitter reads as two).",
        "",
        md_table(("", "citation precision", "citation recall"),
                 [("raw markers", pct(rp), pct(rr)), ("after the check (qa.generate.checked_answer)", pct(cp), pct(cr))]),
        "",
        f"Hand-written claims about the article ({CLAIMS.name}): the check agrees with {right} of {len(hand)} labels; "
        f"it accepts {accepted_true} of {sum(h['supported'] for h in hand)} supported claims and "
        f"{sum(judged) - accepted_true} of {sum(not h['supported'] for h in hand)} unsupported ones.",
        "",
    ]))
    write_json(args.json, {"answers": used, "raw": {"precision": rp, "recall": rr},
                           "checked": {"precision": cp, "recall": cr}, "article_claims_agreement": right / len(hand)})


if __name__ == "__main__":
    main()
