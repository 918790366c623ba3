"""Load benchmark of the web app: concurrent `/ask` users, then the same load while an upload is indexed.

    python benchmarks/load.py [--users 50] [--questions 10] [--quick] [--upload-kb 200]

Starts `python app.py --port P --seeds <copy of seeds/> --index-dir <tmp>` on 127.0.0.1 (a free
port, a temporary folder), waits until it answers, then:

1. N users (threads, one `gradio_client.Client` each) ask M questions each from
   tests/data/article_dev.jsonl through the public `/ask` endpoint;
2. the same load again while a generated ~200 KB .txt file is uploaded and indexed. The upload's
   event is private (`api_visibility="private"`: gradio_client refuses it), so it is driven the
   way the browser does: POST /gradio_api/upload, then /gradio_api/queue/join with the index
   event's fn_index (found in /config), then its /gradio_api/queue/data stream until it completes.
   Only the questions sent while the indexing ran are reported for this phase.

Reports requests, errors, p50/p95 latency, and the peak RSS (VmHWM) of the server process and
its children. Markdown on stdout, progress on stderr. The server is always terminated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, loadavg, log, md_table, median, percentile  # noqa: E402

QUESTIONS_FILE = REPO / "tests" / "data" / "article_dev.jsonl"
STARTUP_TIMEOUT = 300.0  # the first start may build the index (and load the model) on a busy machine
REQUEST_TIMEOUT = 180.0  # one /ask call, queueing included
INDEX_TIMEOUT = 600.0  # the upload's indexing


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(uploads: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", "GRADIO_TEMP_DIR": str(uploads),
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


def start_server(tmp: Path, port: int) -> subprocess.Popen:
    seeds = tmp / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    uploads = tmp / "uploads"
    uploads.mkdir()
    logf = open(tmp / "server.log", "w", encoding="utf-8")
    cmd = [sys.executable, str(REPO / "app.py"), "--host", "127.0.0.1", "--port", str(port),
           "--seeds", str(seeds), "--index-dir", str(tmp / "index")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=logf, stderr=subprocess.STDOUT, env=server_env(uploads))
    logf.close()
    return proc


def wait_ready(proc: subprocess.Popen, url: str, log_path: Path) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < STARTUP_TIMEOUT:
        if proc.poll() is not None:
            raise SystemExit(f"app.py exited with code {proc.returncode} before serving:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(1)
    raise SystemExit(f"app.py did not answer on {url} within {STARTUP_TIMEOUT:.0f}s:\n{tail(log_path)}")


def stop_server(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:]
    except OSError:
        return ""


def descendants(pid: int) -> list[int]:
    """pid and all its live descendants (via /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return out


def vm_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mb(pid: int) -> tuple[float, int]:
    """Sum of VmHWM over the server and its descendants (MB), and how many processes that is."""
    pids = descendants(pid)
    return sum(vm_kb(p, "VmHWM") for p in pids) / 1024, len(pids)


# --------------------------------------------------------------------------- the load


@dataclass
class Call:
    user: int
    start: float  # time.monotonic()
    end: float
    ok: bool
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.end - self.start


def load_questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("question")]


def run_users(url: str, questions: list[str], users: int, per_user: int, seed: int) -> list[Call]:
    """`users` threads, each with its own Client, asking `per_user` questions one after another."""
    from gradio_client import Client

    calls: list[Call] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        rng = random.Random(seed * 100_003 + u)
        t0 = time.monotonic()
        try:
            client = Client(url, verbose=False, httpx_kwargs={"timeout": 60})
        except Exception as exc:  # could not even connect: every question of this user fails
            t1 = time.monotonic()
            with lock:
                calls.extend(Call(u, t0, t1, False, f"connect: {type(exc).__name__}: {exc}"[:200]) for _ in range(per_user))
            return
        for _ in range(per_user):
            q = rng.choice(questions)
            start = time.monotonic()
            job = None
            try:
                job = client.submit(q, api_name="/ask")
                result = job.result(timeout=REQUEST_TIMEOUT)
                result = json.loads(result) if isinstance(result, str) else result
                ok, err = isinstance(result, dict) and "text" in result, ""
                if not ok:
                    err = f"unexpected result {str(result)[:100]}"
            except Exception as exc:
                ok, err = False, f"{type(exc).__name__}: {exc}"[:200]
                if job is not None:
                    try:
                        job.cancel()
                    except Exception:
                        pass
            with lock:
                calls.append(Call(u, start, time.monotonic(), ok, err))
        try:
            client.close()
        except Exception:
            pass

    threads = [threading.Thread(target=user, args=(u,), daemon=True) for u in range(users)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + REQUEST_TIMEOUT * per_user + 120
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        log(f"{stuck} user thread(s) still running at the deadline; their unfinished calls are not counted")
    with lock:
        return list(calls)


# --------------------------------------------------------------------------- the upload


def make_upload(path: Path, kb: int) -> Path:
    """A generated English-like text of about `kb` KB with facts about made-up places."""
    rng = random.Random(7)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    things = ["festival", "bridge", "library", "harbour", "observatory", "market", "railway", "museum"]
    syll = ["zor", "bla", "qui", "ten", "mar", "vel", "dos", "ka", "rin", "thu", "lo", "pe"]
    parts: list[str] = []
    size = 0
    while size < kb * 1024:
        town = "".join(rng.choice(syll) for _ in range(3)).capitalize()
        para = []
        for _ in range(rng.randint(4, 8)):
            thing = rng.choice(things)
            para.append(rng.choice([
                f"The {thing} of {town} opened in {rng.choice(months)} {rng.randint(1800, 2020)}.",
                f"About {rng.randint(2, 900)} thousand people visit the {town} {thing} every year.",
                f"The mayor of {town}, {rng.choice(syll).capitalize()}{rng.choice(syll)}, praised the new {thing}.",
                f"{town} lies {rng.randint(3, 400)} kilometres north of the capital.",
            ]))
        text = " ".join(para)
        parts.append(text)
        size += len(text) + 2
    path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return path


def http_json(url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})} if body is not None else dict(headers or {})
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET", headers=hdrs)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def find_index_event(base: str) -> tuple[int, int]:
    """(fn_index, trigger component id) of the event that indexes the upload box's files: the
    `.then` after the upload box's `upload` event (see qa/ui/layout.py)."""
    config = http_json(base + "config")
    comps = {c["id"]: c for c in config["components"]}
    box = [i for i, c in comps.items() if c.get("props", {}).get("elem_id") == "qa-upload"]
    if not box:
        raise RuntimeError("no component with elem_id qa-upload in /config")
    box_id = box[0]
    deps = config["dependencies"]
    first = [d for d in deps if [box_id, "upload"] in [list(t) for t in d.get("targets", [])]]
    if not first:
        raise RuntimeError("the upload box has no upload event in /config")
    after = [d for d in deps if d.get("trigger_after") == first[0]["id"] and box_id in d.get("inputs", [])]
    if not after or not after[0].get("backend_fn"):
        raise RuntimeError("no backend event indexes the upload box's files")
    return after[0]["id"], box_id


def upload_and_index(base: str, path: Path, state: dict[str, Any]) -> None:
    """Browser path: upload the file, join the queue for the index event, read its stream to the end.
    Sets state['start'], state['end'], state['ok'], state['message']."""
    origin = {"Origin": base.rstrip("/")}
    try:
        fn_index, trigger = find_index_event(base)
        boundary = "qa-load-" + uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
                f"Content-Type: text/plain\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(base + "gradio_api/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}", **origin})
        with urllib.request.urlopen(req, timeout=60) as resp:
            server_path = json.loads(resp.read())[0]
        file_data = {"path": server_path, "orig_name": path.name, "size": path.stat().st_size,
                     "mime_type": "text/plain", "meta": {"_type": "gradio.FileData"}}
        session = uuid.uuid4().hex[:11]
        state["start"] = time.monotonic()
        http_json(base + "gradio_api/queue/join", {"data": [[file_data]], "fn_index": fn_index, "trigger_id": trigger,
                                                   "session_hash": session, "event_data": None}, origin)
        req = urllib.request.Request(base + f"gradio_api/queue/data?session_hash={session}", headers=origin)
        deadline = time.monotonic() + INDEX_TIMEOUT
        with urllib.request.urlopen(req, timeout=INDEX_TIMEOUT) as stream:
            for raw in stream:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"indexing did not finish within {INDEX_TIMEOUT:.0f}s")
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    state["end"] = time.monotonic()
                    out = msg.get("output") or {}
                    state["ok"] = bool(msg.get("success"))
                    status = (out.get("data") or [""])[0]
                    state["message"] = str(status if state["ok"] else out.get("error") or out)[:300]
                    return
                if msg.get("msg") == "close_stream":
                    break
        raise RuntimeError("the queue stream closed before the indexing completed")
    except Exception as exc:
        state.setdefault("start", time.monotonic())
        state["end"] = time.monotonic()
        state["ok"] = False
        state["message"] = f"{type(exc).__name__}: {exc}"[:300]


# --------------------------------------------------------------------------- report


def row(label: str, calls: list[Call], wall: float, rss: float) -> list[Any]:
    ok = [c.seconds for c in calls if c.ok]
    errors = sum(not c.ok for c in calls)
    fmt = lambda x: "n/a" if x != x else f"{x:.2f}"  # noqa: E731
    tput = f"{len(ok) / wall:.1f}" if wall > 0 else "n/a"
    return [label, len(calls), errors, fmt(median(ok)), fmt(percentile(ok, 95)), fmt(max(ok) if ok else float("nan")),
            tput, f"{wall:.1f}", f"{rss:.0f}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    ap.add_argument("--questions", type=int, default=10, help="questions per user (default 10)")
    ap.add_argument("--quick", action="store_true", help="5 users x 3 questions")
    ap.add_argument("--upload-kb", type=int, default=200, help="size of the generated upload (default 200 KB)")
    ap.add_argument("--skip-upload", action="store_true", help="only phase 1")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.questions = 5, 3
    if args.users < 1 or args.questions < 1:
        ap.error("--users and --questions must be at least 1")
    questions = load_questions()
    log(f"{len(questions)} questions from {QUESTIONS_FILE.relative_to(REPO)}; {args.users} users x {args.questions}")

    tmp = Path(tempfile.mkdtemp(prefix="qa-load-"))
    proc = None
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}/"
        proc = start_server(tmp, port)
        log(f"started app.py (pid {proc.pid}) on {base}; waiting for it to answer")
        ready = wait_ready(proc, base, tmp / "server.log")
        rss0, nproc = peak_rss_mb(proc.pid)
        log(f"server ready after {ready:.1f}s; peak RSS so far {rss0:.0f} MB over {nproc} process(es)")

        # warm-up: one question, so the model's first call is not counted
        run_users(base, questions, 1, 1, seed=0)

        log("phase 1: questions only")
        t0 = time.monotonic()
        calls1 = run_users(base, questions, args.users, args.questions, seed=1)
        wall1 = time.monotonic() - t0
        rss1, _ = peak_rss_mb(proc.pid)
        rows = [row("questions only", calls1, wall1, rss1)]
        notes: list[str] = []

        state: dict[str, Any] = {}
        if not args.skip_upload:
            upload = make_upload(tmp / "load-upload.txt", args.upload_kb)
            log(f"phase 2: the same load while {upload.name} ({upload.stat().st_size / 1024:.0f} KB) is indexed")
            uploader = threading.Thread(target=upload_and_index, args=(base, upload, state), daemon=True)
            t0 = time.monotonic()
            uploader.start()
            while "start" not in state and uploader.is_alive() and time.monotonic() - t0 < 90:
                time.sleep(0.05)
            calls2 = run_users(base, questions, args.users, args.questions, seed=2)
            wall2 = time.monotonic() - t0
            uploader.join(timeout=INDEX_TIMEOUT)
            rss2, _ = peak_rss_mb(proc.pid)
            start, end = state.get("start", t0), state.get("end", time.monotonic())
            during = [c for c in calls2 if start <= c.start <= end]
            rows.append(row("all of phase 2", calls2, wall2, rss2))
            rows.append(row("asked while indexing", during, min(end, max((c.end for c in during), default=end)) - start
                            if during else 0.0, rss2))
            notes.append(f"Upload: {upload.stat().st_size / 1024:.0f} KB .txt, indexing "
                         f"{'succeeded' if state.get('ok') else 'FAILED'} in {end - start:.1f}s "
                         f"({len(during)} of {len(calls2)} questions were sent while it ran); "
                         f"status: {state.get('message', '')!r}")
            errs = [c.error for c in calls1 + calls2 if not c.ok]
        else:
            errs = [c.error for c in calls1 if not c.ok]
        if errs:
            uniq = sorted(set(errs), key=errs.count, reverse=True)[:3]
            notes.append("Errors (most frequent): " + "; ".join(f"{errs.count(e)}x {e}" for e in uniq))

        print(f"## Load: {args.users} users x {args.questions} questions on /ask\n")
        print(md_table(["phase", "requests", "errors", "p50 s", "p95 s", "max s", "answers/s", "wall s", "peak RSS MB"],
                       rows))
        print()
        print(f"- Server ready after {ready:.1f}s (index built from a copy of seeds/); peak RSS = sum of VmHWM over "
              f"app.py and its {nproc - 1} child process(es), cumulative since start; "
              f"{rss0:.0f} MB before any question.")
        print(f"- Latency = client-side time of one `/ask` call (queueing included); Gradio queue "
              f"concurrency 4; machine: {os.cpu_count()} CPU(s), load average {loadavg()} at the end.")
        for n in notes:
            print(f"- {n}")
        return 0
    finally:
        if proc is not None:
            stop_server(proc)
            log(f"server stopped (exit code {proc.returncode})")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
