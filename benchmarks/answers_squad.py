"""Answer quality on SQuAD v1.1 (13 dev articles as a 13-document corpus): the product vs the common recipe.

Each article is one document (paragraphs joined by a blank line); every question is asked against
the whole corpus. For each question:

* evidence hit@1 / hit@3: the first (any of the first three) citation's passage span [start, end)
  overlaps the gold paragraph's span in the gold document AND the passage text contains an accepted
  answer string;
* answer accuracy: an accepted answer string occurs in the answer text (qa.evaluation.contains_answer,
  only for answered questions);
* median answer length (chars, answered questions) and answered rate; median latency per question.

"The common recipe" is implemented here: LangChain's RecursiveCharacterTextSplitter algorithm
(separators "\\n\\n", "\\n", " ", ""; chunk_size 1000 characters, chunk_overlap 200; ported, not
imported), the same embedding model, FAISS IndexFlatIP dense top-3; the top chunk's text is the
"answer" and the top three chunks are its citations. It always answers.

Unanswerable check: questions asked against an index WITHOUT their article (for each article, the
full index minus that one document, made by the product's own incremental update, so nothing is
re-embedded); the no-answer rate is the share the product declines. Some SQuAD questions are
generic enough that another article could answer them, so 100% is not the ceiling in principle.

    python benchmarks/answers_squad.py [--n 1000 | --full] [--unanswerable 200] [--data DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.reader import reader_card

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    CACHE,
    SquadArticle,
    SquadQuestion,
    add_data_arg,
    bench_settings,
    data_dir,
    file_sha,
    index_key,
    load_squad,
    log,
    md_table,
    median,
    open_assistant,
    pct,
    prune,
    rate,
    settings_line,
    sha,
    squad_path,
    squad_seeds,
    write_json,
)

RECIPE_CHUNK = 1000
RECIPE_OVERLAP = 200
RECIPE_TOP_K = 3


# -- the common recipe ------------------------------------------------------------------------


def _split_with_separator(text: str, separator: str) -> list[str]:
    """LangChain's _split_text_with_regex with keep_separator=True ("start"): the separator
    starts the following piece."""
    if not separator:
        return [c for c in text]
    parts = re.split(f"({re.escape(separator)})", text)
    splits = [parts[i] + parts[i + 1] for i in range(1, len(parts) - 1, 2)]
    if len(parts) % 2 == 0:
        splits += parts[-1:]
    splits = [parts[0]] + splits
    return [s for s in splits if s != ""]


def _merge_splits(splits: list[str], separator: str, size: int, overlap: int) -> list[str]:
    """LangChain's TextSplitter._merge_splits (length = len, strip_whitespace=True)."""
    sep_len = len(separator)
    docs: list[str] = []
    current: list[str] = []
    total = 0
    for d in splits:
        n = len(d)
        if total + n + (sep_len if current else 0) > size:
            if current:
                doc = separator.join(current).strip()
                if doc:
                    docs.append(doc)
                while total > overlap or (total + n + (sep_len if current else 0) > size and total > 0):
                    total -= len(current[0]) + (sep_len if len(current) > 1 else 0)
                    current = current[1:]
        current.append(d)
        total += n + (sep_len if len(current) > 1 else 0)
    doc = separator.join(current).strip()
    if doc:
        docs.append(doc)
    return docs


def recursive_split(text: str, size: int = RECIPE_CHUNK, overlap: int = RECIPE_OVERLAP,
                    separators: tuple[str, ...] = ("\n\n", "\n", " ", "")) -> list[str]:
    """LangChain's RecursiveCharacterTextSplitter._split_text (default separators, keep_separator=True)."""
    separator, rest = separators[-1], ()
    for i, s in enumerate(separators):
        if s == "":
            separator = s
            break
        if s in text:
            separator, rest = s, separators[i + 1 :]
            break
    out: list[str] = []
    good: list[str] = []
    for s in _split_with_separator(text, separator):
        if len(s) < size:
            good.append(s)
            continue
        if good:
            out.extend(_merge_splits(good, "", size, overlap))
            good = []
        out.extend(recursive_split(s, size, overlap, rest) if rest else [s])
    if good:
        out.extend(_merge_splits(good, "", size, overlap))
    return out


@dataclass(frozen=True)
class RecipeChunk:
    source: str
    start: int
    end: int
    text: str


def recipe_chunks(articles: list[SquadArticle]) -> list[RecipeChunk]:
    """Chunks with offsets, found like LangChain's add_start_index (search from the previous chunk)."""
    out = []
    for a in articles:
        index, prev_len = 0, 0
        for piece in recursive_split(a.text):
            found = a.text.find(piece, max(0, index + prev_len - RECIPE_OVERLAP))
            if found < 0:
                found = a.text.find(piece)
            assert found >= 0, "a chunk must be a substring of its document"
            index, prev_len = found, len(piece)
            out.append(RecipeChunk(a.source, found, found + len(piece), piece))
    return out


class Recipe:
    """Dense-only top-k over 1,000-character chunks; the top chunk is the answer."""

    def __init__(self, chunks: list[RecipeChunk], encoder: Any, cache: Path) -> None:
        import faiss

        self.chunks = chunks
        self.encoder = encoder
        key = sha(encoder.name, *[f"{c.source}\x00{c.start}\x00{c.text}" for c in chunks])[:16]
        path = cache / f"recipe-vectors-{key}.npy"
        if path.exists():
            vecs = np.load(path)
            log(f"[squad] recipe: {len(chunks)} chunk vectors from cache")
        else:
            t0 = time.perf_counter()
            vecs = encoder.encode([c.text for c in chunks], batch_size=64)
            log(f"[squad] recipe: embedded {len(chunks)} chunks in {time.perf_counter() - t0:.1f}s")
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vecs)
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(np.ascontiguousarray(vecs, dtype=np.float32))

    def ask(self, question: str) -> list[RecipeChunk]:
        q = self.encoder.encode_query(question)
        _, ids = self.index.search(q.reshape(1, -1), RECIPE_TOP_K)
        return [self.chunks[int(i)] for i in ids[0] if i >= 0]


# -- scoring ----------------------------------------------------------------------------------


def contains_answer_words(text: str, answers: list[str]) -> bool:
    """Stricter than qa.evaluation.contains_answer: the answer must occur as whole words
    ("1" does not match "1990", "Ford" does not match "Fordham")."""
    from qa.evaluation import normalize

    norm = normalize(text)
    return any(a and re.search(r"(?<!\w)" + re.escape(a) + r"(?!\w)", norm) for a in map(normalize, answers))


def supports(source: str, start: int, end: int, text: str, q: SquadQuestion) -> bool:
    from qa.evaluation import contains_answer

    return source == q.source and start < q.end and end > q.start and contains_answer(text, q.answers)


@dataclass
class Tally:
    hit1: list[bool]
    hit3: list[bool]
    correct: list[bool]
    correct_words: list[bool]
    answered: list[bool]
    lengths: list[int]
    ms: list[float]
    f1: list[float]

    @classmethod
    def new(cls) -> "Tally":
        return cls([], [], [], [], [], [], [], [])

    def metrics(self) -> dict[str, float]:
        return {
            "evidence_hit@1": rate(self.hit1),
            "evidence_hit@3": rate(self.hit3),
            "answer_accuracy": rate(self.correct),
            "answer_accuracy_words": rate(self.correct_words),
            "answered_rate": rate(self.answered),
            "median_answer_chars": median(self.lengths),
            "median_ms": median(self.ms),
            "short_f1": sum(self.f1) / len(self.f1) if self.f1 else float("nan"),
        }


def run_product(bot: Any, questions: list[SquadQuestion], label: str) -> Tally:
    from qa.evaluation import contains_answer, span_f1

    t = Tally.new()
    for i, q in enumerate(questions, start=1):
        t0 = time.perf_counter()
        ans = bot.ask(q.question)
        t.ms.append(1000 * (time.perf_counter() - t0))
        hits = [supports(c.source, c.start, c.end, c.text, q) for c in ans.citations] if ans.answered else []
        t.hit1.append(bool(hits[:1]) and hits[0])
        t.hit3.append(any(hits[:3]))
        t.correct.append(ans.answered and contains_answer(ans.text, q.answers))
        t.correct_words.append(ans.answered and contains_answer_words(ans.text, q.answers))
        t.answered.append(ans.answered)
        t.f1.append(span_f1(ans.short, q.answers) if ans.answered else 0.0)
        if ans.answered:
            t.lengths.append(len(ans.text))
        if i % 200 == 0:
            log(f"[squad] {label}: {i}/{len(questions)}")
    return t


def run_recipe(recipe: Recipe, questions: list[SquadQuestion]) -> Tally:
    from qa.evaluation import contains_answer

    t = Tally.new()
    for q in questions:
        t0 = time.perf_counter()
        top = recipe.ask(q.question)
        t.ms.append(1000 * (time.perf_counter() - t0))
        hits = [supports(c.source, c.start, c.end, c.text, q) for c in top]
        answer = top[0].text if top else ""
        t.hit1.append(bool(hits[:1]) and hits[0])
        t.hit3.append(any(hits[:3]))
        t.correct.append(bool(top) and contains_answer(answer, q.answers))
        t.correct_words.append(bool(top) and contains_answer_words(answer, q.answers))
        t.answered.append(bool(top))
        if top:
            t.lengths.append(len(answer))
    return t


def leave_one_out(data: Path, articles: list[SquadArticle], full_index: Path, source: str, settings: Any,
                  key: str) -> Any:
    """The product over all articles but `source`: a copy of the full index, updated in place
    by Assistant.from_seeds (which drops the missing document and embeds nothing)."""
    seeds = squad_seeds(data, articles, exclude=source)
    index_dir = CACHE / "squad" / f"loo-{key}" / source.removesuffix(".txt")
    if not (index_dir / "manifest.json").exists():
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(index_dir, ignore_errors=True)
        shutil.copytree(full_index, index_dir)
    bot, _ = open_assistant(seeds, index_dir, settings, f"squad without {source}", check=False)
    rep = bot.last_update
    if rep is not None and rep.chunks_embedded:
        log(f"[squad] note: leave-one-out index for {source} re-embedded {rep.chunks_embedded} chunks")
    assert source not in {d.source for d in bot.documents()}
    return bot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--n", type=int, default=1000, help="held-out questions sampled (seed 0); default 1000")
    ap.add_argument("--full", action="store_true", help="all questions of the held-out articles")
    ap.add_argument("--unanswerable", type=int, default=200,
                    help="questions asked without their article (seed 1); 0 to skip; default 200")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()
    data = data_dir(args.data)
    t_start = time.perf_counter()

    articles = load_squad(data)
    heldout = set(reader_card()["heldout_articles"])  # the reader never trained on their questions
    all_q = [q for a in articles if a.title in heldout for q in a.questions]
    if args.full or args.n >= len(all_q):
        sample = list(all_q)
    else:
        sample = random.Random(0).sample(all_q, args.n)
    settings = bench_settings()
    key = index_key(file_sha(squad_path(data)), settings)
    seeds = squad_seeds(data, articles)
    index_dir = CACHE / "squad" / f"index-{key}"
    prune(index_dir.parent, "index", keep=index_dir)
    bot, build_s = open_assistant(seeds, index_dir, settings, "squad")
    # Leave-one-out copies follow the full index: keyed by its manifest (which names its generation).
    loo_key = sha((index_dir / "manifest.json").read_bytes())[:16]
    prune(index_dir.parent, "loo", keep=CACHE / "squad" / f"loo-{loo_key}")
    docs = bot.documents()

    chunks = recipe_chunks(articles)
    recipe = Recipe(chunks, bot.encoder, CACHE / "squad")

    # One warm-up call each so that first-call costs do not land in the latency medians.
    bot.ask(sample[0].question)
    recipe.ask(sample[0].question)
    log(f"[squad] asking {len(sample)} questions (product) ...")
    prod = run_product(bot, sample, "product")
    log("[squad] recipe ...")
    rec = run_recipe(recipe, sample)

    pm, rm = prod.metrics(), rec.metrics()
    rows = [
        ("evidence hit@1", pct(pm["evidence_hit@1"]), pct(rm["evidence_hit@1"])),
        ("evidence hit@3", pct(pm["evidence_hit@3"]), pct(rm["evidence_hit@3"])),
        ("answer accuracy (accepted answer in answer text)", pct(pm["answer_accuracy"]), pct(rm["answer_accuracy"])),
        ("answer accuracy, whole-word match", pct(pm["answer_accuracy_words"]), pct(rm["answer_accuracy_words"])),
        ("answered rate", pct(pm["answered_rate"]), pct(rm["answered_rate"])),
        ("exact answer words (Answer.short), SQuAD token F1", pct(pm["short_f1"]), "n/a (no answer span)"),
        ("median answer length (chars)", f"{pm['median_answer_chars']:.0f}", f"{rm['median_answer_chars']:.0f}"),
        ("median latency per question (ms)", f"{pm['median_ms']:.1f}", f"{rm['median_ms']:.1f}"),
    ]

    una: dict[str, float] = {}
    if args.unanswerable:
        pool = random.Random(1).sample(all_q, min(args.unanswerable, len(all_q)))
        by_source: dict[str, list[SquadQuestion]] = {}
        for q in pool:
            by_source.setdefault(q.source, []).append(q)
        declined: list[bool] = []
        for source in sorted(by_source):
            loo = leave_one_out(data, articles, index_dir, source, settings, loo_key)
            for q in by_source[source]:
                declined.append(not loo.ask(q.question).answered)
            del loo
        una = {"questions": len(declined), "no_answer_rate": rate(declined)}
        rows.append((f"no-answer rate, {len(declined)} questions asked without their article "
                     f"({len(by_source)} leave-one-out indexes)", pct(una["no_answer_rate"]), "0.0% (always answers)"))

    n_desc = "all" if len(sample) == len(all_q) else f"a random sample (seed 0) of {len(sample)} of {len(all_q)}"
    n_desc += f" questions of the {len(heldout)} articles the reader never trained on ({', '.join(sorted(heldout))});"
    built = "cached index" if bot.last_update and not bot.last_update.changed_anything else f"index built in {build_s:.0f}s"
    out = [
        "## Answers: SQuAD v1.1 dev, 13 articles as one corpus",
        "",
        f"{n_desc} each asked against all 13 documents. Product: Assistant.ask, {sum(d.chunks for d in docs)} chunks, "
        f"{sum(d.sentences for d in docs)} sentences ({built}; {settings_line(settings)}). Common recipe: "
        f"{len(chunks)} chunks of <=1,000 characters with 200 overlap (LangChain RecursiveCharacterTextSplitter "
        f"algorithm, ported), same model, FAISS IndexFlatIP dense top-{RECIPE_TOP_K}, top chunk = answer.",
        "",
        md_table(("metric", "product (Assistant.ask)", "common recipe (1000/200 chunks, dense top-3)"), rows),
        "",
        "Evidence hit = the cited passage overlaps the gold paragraph and contains an accepted answer. Answer accuracy "
        "is substring containment, so a 1,000-character \"answer\" gets credit whenever the answer is anywhere in it: "
        "read it together with the answer length.",
    ]
    print("\n".join(out))
    write_json(args.json, {"benchmark": "answers_squad", "questions": len(sample), "product": pm, "recipe": rm,
                           "unanswerable": una, "seconds": time.perf_counter() - t_start})
    log(f"[squad] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
