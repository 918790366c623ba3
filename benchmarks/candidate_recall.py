"""The reader's candidate recall on SQuAD v1.1 dev (13 articles as one corpus, the index of answers_squad.py).

For each sampled question of the 5 held-out articles (the same sample as answers_squad.py, seed 0),
retrieval and the prefilter run as `Assistant.explain` runs them (top_k passages, then every
sentence of them ranked by the prefilter), and a gold sentence is a sentence of the gold
paragraph that holds an accepted answer string:

* candidate recall@R: a gold sentence is among the R best by the prefilter (R = reader_candidates,
  the sentences the reader scores), and among all candidates of the passages;
* sentence search hit@10: a gold sentence among the 10 nearest sentence vectors (dense only).

Both depend on how sentence vectors are made (QA_SENTENCE_VECTORS=late | separate), which is what
this benchmark is for; the index is cached per setting like answers_squad.py's.

    python benchmarks/candidate_recall.py [--n 1000] [--data DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from answers_squad import squad_seeds  # noqa: E402
from common import (  # noqa: E402
    CACHE, add_data_arg, bench_settings, data_dir, file_sha, index_key, load_squad, log, md_table, open_assistant,
    settings_line, squad_path, write_json)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_arg(ap)
    ap.add_argument("--n", type=int, default=1000, help="held-out questions sampled (seed 0, as answers_squad.py)")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args()
    data = data_dir(args.data)
    t_start = time.perf_counter()

    from qa import answering
    from qa.reader import reader_card

    articles = load_squad(data)
    heldout = set(reader_card()["heldout_articles"])
    all_q = [q for a in articles if a.title in heldout for q in a.questions]
    sample = list(all_q) if args.n >= len(all_q) else random.Random(0).sample(all_q, args.n)
    settings = bench_settings()
    index_dir = CACHE / "squad" / f"index-{index_key(file_sha(squad_path(data)), settings)}"
    bot, _ = open_assistant(squad_seeds(data, articles), index_dir, settings, "squad")
    data_, retriever = bot._state  # noqa: SLF001 - the benchmark looks inside on purpose
    limit = settings.reader_candidates
    hit_r = hit_all = hit_sent = counted = 0
    for q in sample:
        doc = data_.documents.get(q.source)
        if doc is None:
            continue
        gold = {i for i, (a, b) in enumerate(doc.sentences)
                if a < q.end and b > q.start and any(ans and ans in doc.text[a:b] for ans in q.answers)}
        if not gold:  # the answer crosses a sentence boundary: no single gold sentence
            continue
        counted += 1
        vector = bot.encoder.encode_query(q.question)
        hits = retriever.search(q.question, settings.top_k, query_vector=vector)
        pool = answering.candidates(q.question, vector, [h.row for h in hits], data_)
        found = [c.source == q.source and c.sentence in gold for c in pool]
        hit_r += any(found[:limit])
        hit_all += any(found)
        _, rows = data_.sentence_vectors.search(vector, 10)
        hit_sent += any(data_.sentence_at(int(r))[:2] in {(q.source, g) for g in gold} for r in rows if r >= 0)
    pct = lambda k: f"{100 * k / max(counted, 1):.1f}%"  # noqa: E731
    metrics = {"questions": counted, "candidate_recall_at_reader": hit_r / max(counted, 1),
               "candidate_recall_all": hit_all / max(counted, 1), "sentence_search_hit10": hit_sent / max(counted, 1),
               "sentence_vectors": getattr(settings, "sentence_vectors", "separate")}
    print(f"## The reader's candidate recall: SQuAD v1.1 dev, 13 articles\n\n{counted} of {len(sample)} sampled "
          f"questions with a gold sentence; {settings_line(settings)}.\n")
    print(md_table(["measure", "value"], [
        [f"gold sentence among the {limit} the reader scores (candidate recall@{limit})", pct(hit_r)],
        [f"gold sentence among all candidates of the top {settings.top_k} passages", pct(hit_all)],
        ["gold sentence among the 10 nearest sentence vectors", pct(hit_sent)],
    ]))
    print(f"\n_Command: `python benchmarks/candidate_recall.py --n {args.n}` — ran in "
          f"{time.perf_counter() - t_start:.0f} s._")
    if args.json:
        write_json(args.json, metrics)
    log(f"[candidates] done in {time.perf_counter() - t_start:.0f}s")


if __name__ == "__main__":
    main()
