"""The `qa` command line: a thin shell over the Python API.

Errors become one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from .documents import DOCUMENT_TYPES
from .errors import IndexingCancelled, QAError
from .settings import DEFAULT_SENTENCE_VECTORS, SENTENCE_VECTORS
from .text import terminal_safe

if TYPE_CHECKING:
    from typing import TextIO

    from .schema import Citation, IndexProgress

log = logging.getLogger("qa")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from .settings import Settings

    return Settings.from_env(
        model=getattr(args, "model", None),
        encoder=getattr(args, "encoder", None),
        sentence_vectors=getattr(args, "sentence_vectors", None),
        store=getattr(args, "store", None),
        milvus_uri=getattr(args, "milvus_uri", None),
        index_dir=getattr(args, "index_dir", None),
        top_k=getattr(args, "top_k", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        max_index_seconds=getattr(args, "max_index_seconds", None),
        llm_url=getattr(args, "llm_url", None),
        llm_model=getattr(args, "llm_model", None),
    )


@contextmanager
def ctrl_c_cancels(cancel: threading.Event) -> Iterator[None]:
    """While inside, a first Ctrl-C sets `cancel` (the build stops at its next batch, the previous
    index intact); a second one interrupts at once. Only in the main thread (signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: object) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()
        print("qa: cancelling after the current batch (Ctrl-C again to stop at once)", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _say(text: str = "", *, err: bool = False) -> None:
    """Print a line that may hold file names or document text: its control characters escaped
    (`terminal_safe`), so a document cannot drive the user's terminal."""
    print(terminal_safe(text), file=sys.stderr if err else sys.stdout)


class _SafeFormatter(logging.Formatter):
    """Log lines (they name files and quote errors) with control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().format(record))


class ProgressLines:
    """`qa index` progress on stderr in the chat's words (`IndexProgress.describe()`: files,
    sentences and the time left). On a terminal one line, rewritten at most every `interval`
    seconds (0.25); elsewhere (a log, a pipe) a line per stage and one every `interval` seconds
    (5) while embedding, never a carriage return."""

    def __init__(self, stream: "TextIO | None" = None, interval: float | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self.interval = interval if interval is not None else (0.25 if self.tty else 5.0)
        self.stage = ""
        self.shown = float("-inf")
        self.open = False  # a terminal line waits for its line break

    def __call__(self, progress: "IndexProgress") -> None:
        now = time.monotonic()
        if progress.stage == self.stage and now - self.shown < self.interval:
            return
        self.stage, self.shown = progress.stage, now
        text = terminal_safe(progress.describe())
        if self.tty:
            self.stream.write(f"\r{text}\x1b[K")
            self.open = True
        else:
            self.stream.write(f"{text}\n")
        if progress.stage in ("done", "cancelled"):
            self.close()
        self.stream.flush()

    def close(self) -> None:
        """End the terminal line, if one is open."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def cmd_index(args: argparse.Namespace) -> int:
    from .assistant import Assistant

    settings = _settings(args)
    seeds = Path(args.seeds_dir) if args.seeds_dir else settings.seeds_dir
    cancel = threading.Event()
    lines = None if args.quiet else ProgressLines()
    try:
        with ctrl_c_cancels(cancel):
            bot = Assistant.from_seeds(seeds, index_dir=settings.index_dir, settings=settings,
                                       show_progress_bar=False, on_progress=lines, cancel=cancel)
    finally:
        if lines is not None:
            lines.close()
    report = bot.last_update
    _say(f"{settings.index_dir}: {report.summary()}" if report else f"{settings.index_dir}: loaded")
    return EXIT_ERROR if report and report.failed and args.strict else EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from .assistant import Assistant, validate_question

    validate_question(args.question)  # fail fast, before the model loads
    settings = _settings(args)
    bot = Assistant.from_index(settings.index_dir, settings=settings, model=args.model)
    answer = bot.ask(args.question, top_k=args.top_k, generate=args.generate)
    if args.json:
        _say(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    if answer.notice:
        _say(f"Note: {answer.notice}", err=True)
    if answer.query != answer.question:
        _say(f"Understood as: {answer.query}")
    _say(answer.text)
    bold = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("**", "**")
    for c in answer.citations:
        where = terminal_safe(c.source) + "".join(f" › {label}{terminal_safe(text)}" for label, text in
                                                  (("", c.section), ("columns: ", c.columns)) if text)
        print(f"\n[{c.number}] {where} (chars {c.quote_start}-{c.quote_end}, score {c.score:.3f})\n"
              f"    “{_quote_with_words(c, bold)}”")
    if answer.closest:
        print("\nClosest passages:")
        for p in answer.closest:
            _say(f"  - {p.source} (chars {p.start}-{p.end}): {' '.join(p.text.split())[:200]}")
    return EXIT_OK


def _quote_with_words(c: "Citation", bold: tuple[str, str]) -> str:
    """The quote on one line, with the reader's answer words between `bold` markers (the quote's
    own control characters escaped, the markers' kept)."""
    quote = c.quote
    a, z = c.answer_start - c.quote_start, c.answer_end - c.quote_start
    if c.answer_start >= 0 and 0 <= a < z <= len(quote):
        parts = [terminal_safe(quote[:a]), bold[0], terminal_safe(quote[a:z]), bold[1], terminal_safe(quote[z:])]
    else:
        parts = [terminal_safe(quote)]
    return " ".join("".join(parts).split())


def cmd_search(args: argparse.Namespace) -> int:
    from .assistant import Assistant

    settings = _settings(args)
    bot = Assistant.from_index(settings.index_dir, settings=settings, model=args.model)
    passages = bot.search(args.query, top_k=args.top_k or 10)
    if args.json:
        _say(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return EXIT_OK
    for i, p in enumerate(passages, start=1):
        text = " ".join(p.text.split())
        _say(f"{i}. {p.source} [{p.start}:{p.end}] score {p.score:.3f}\n   {text[:300]}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from .assistant import Assistant
    from .evaluation import evaluate, load_questions

    settings = _settings(args)
    questions = load_questions(args.questions)
    if args.seeds_dir:
        cancel = threading.Event()
        with ctrl_c_cancels(cancel):
            bot = Assistant.from_seeds(args.seeds_dir, index_dir=settings.index_dir, settings=settings,
                                       show_progress_bar=False, cancel=cancel)
    else:
        bot = Assistant.from_index(settings.index_dir, settings=settings, model=args.model)
    report = evaluate(lambda q: bot.ask(q, top_k=args.top_k), questions)
    if args.json:
        _say(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        _say(report.table())
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from .ui import serve

    settings = _settings(args)
    serve(settings=settings, seeds_dir=Path(args.seeds_dir) if args.seeds_dir else settings.seeds_dir,
          index_dir=settings.index_dir, insecure=args.insecure)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask questions about your documents; every answer is cited.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index-dir", help="index folder (QA_INDEX_DIR, default: index)")
        p.add_argument("--model", help="sentence-transformers model name or path (QA_MODEL)")
        p.add_argument("--encoder", choices=["onnx", "torch"],
                       help="how the default model runs when an index is built: int8 ONNX or fp32 torch "
                            "(QA_ENCODER); an index is always queried with the encoder that built it")
        p.add_argument("--sentence-vectors", choices=list(SENTENCE_VECTORS),
                       help="how an index build makes chunk and sentence vectors: pooled (one model pass per "
                            "sentence, a chunk's vector pooled from its sentences'), separate (every chunk and "
                            "sentence its own pass) or late (late chunking, ONNX only) (QA_SENTENCE_VECTORS, "
                            f"default {DEFAULT_SENTENCE_VECTORS}); a change rebuilds the index")
        p.add_argument("--store", choices=["faiss", "milvus"],
                       help="where an index build keeps the vectors: FAISS files in the index folder, or Milvus "
                            "(QA_STORE, default faiss); an index is always read from the store that built it")
        p.add_argument("--milvus-uri", metavar="URI",
                       help="with --store milvus: a Milvus Lite folder (default: milvus.db in the index folder) "
                            "or a server such as http://localhost:19530 (QA_MILVUS_URI)")

    def time_limit(p: argparse.ArgumentParser) -> None:
        p.add_argument("--max-index-seconds", type=float, metavar="S",
                       help="refuse to index what would take longer than S seconds on this machine, "
                            "estimated after the first batch (QA_MAX_INDEX_SECONDS, default 1800; 0 = no limit)")

    p = sub.add_parser("index", help="build or update the index for a folder of documents")
    p.add_argument("seeds_dir", nargs="?", help=f"folder of {'/'.join(DOCUMENT_TYPES)} files (QA_SEEDS_DIR, default: seeds)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines (files, sentences, time left) on stderr")
    p.add_argument("--strict", action="store_true", help="exit 1 if any file could not be read")
    common(p)
    time_limit(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("-k", "--top-k", type=int, help="passages to answer from (QA_TOP_K, default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.add_argument("--generate", action="store_true",
                   help="have the language model at --llm-url write the answer; every sentence is checked against "
                        "what it cites (the extractive answer, with a note, if the model fails)")
    p.add_argument("--llm-url", help="OpenAI-compatible server, e.g. http://localhost:11434/v1 (QA_LLM_URL); "
                                     "the key comes from QA_LLM_API_KEY only")
    p.add_argument("--llm-model", help="the model the server should use (QA_LLM_MODEL)")
    common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("search", help="show the ranked passages for a query")
    p.add_argument("query")
    p.add_argument("-k", "--top-k", type=int, help="passages to show (default 10)")
    p.add_argument("--json", action="store_true", help="print the passages as JSON")
    common(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", help="measure answer quality on your own questions (JSON lines)")
    p.add_argument("questions", help='JSON lines: {"question", "answers": [...], "evidence", "answerable"}')
    p.add_argument("--seeds-dir", help="build or update the index from this folder first")
    p.add_argument("-k", "--top-k", type=int)
    p.add_argument("--json", action="store_true", help="print every result as JSON")
    common(p)
    time_limit(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the browser chat")
    p.add_argument("seeds_dir", nargs="?", help="folder of documents (default: seeds)")
    p.add_argument("--host", help="interface to listen on (QA_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (QA_PORT, default 7860)")
    p.add_argument("--insecure", action="store_true",
                   help="allow serving beyond loopback without authentication (QA_AUTH / QA_AUTH_FILE)")
    common(p)
    time_limit(p)
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, handlers=[handler])
    if not args.verbose:
        for noisy in ("sentence_transformers", "transformers", "faiss", "bm25s", "httpx"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
    try:
        return args.func(args)
    except IndexingCancelled as exc:  # Ctrl-C during a build: stopped cleanly, the previous index intact
        _say(f"qa: {_one_line(exc)}", err=True)
        return EXIT_INTERRUPTED
    except (QAError, ValueError, OSError) as exc:  # expected: bad input, missing index, damaged model…
        _say(f"qa: error: {_one_line(exc)}", err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line for the user, the traceback with -v
        if args.verbose:
            log.error("unexpected error", exc_info=True)
        _say(f"qa: error: unexpected {type(exc).__name__}: {_one_line(exc)} (run with -v for details)", err=True)
        return EXIT_ERROR


def _one_line(exc: BaseException) -> str:
    """The message of `exc` on one line (line breaks become spaces)."""
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())


if __name__ == "__main__":
    sys.exit(main())
