"""CPU of a Responses API request next to a chat completion's, phase by phase:
`.venv/bin/python bench/responses_cost.py [--requests N] [--warm]`.

The same prompt (100-token answer, emulator at zero pace) as a chat completion, as a Response
with `store: false` and as a Response stored (the default), sent in turns through the app in
this process (Flask's test client, the shipped stores: SQLite files in a temporary folder).
Each phase is the thread CPU time of the function that does it:

- load: the body through the request schema (schemas/);
- prepare: the Gemini request and the answer's context (relay chat_request + chat_answer /
  response_request);
- upstream: the call to Gemini, its answer read and checked (generate_answer);
- translate: the answer made into a chat.completion / a Response;
- store: the stored response's write (relay/responses._keep);
- rest: everything else (Flask, the hooks, the JSON of the answer, the test client).

Between two requests a 32 MB buffer is written, so every request starts with cold CPU caches,
as a gunicorn worker's requests do (its other threads and requests run in between); `--warm`
leaves the caches as the last request left them. Prints a Markdown table
(bench/results/*-responses-cost.md keeps a run).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import targets  # bench/, this script's folder, is on sys.path as it runs
from gemini_proxy.api import chat as chat_api
from gemini_proxy.api import responses as responses_api
from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from gemini_proxy.relay import chat as chat_relay
from gemini_proxy.relay import responses as responses_relay

PROMPT = "Tell me a story. [emulator tokens=100 thoughts=0]"
CASES = {
    "chat completion": ("/v1/chat/completions", {"model": "gemini-2.5-flash",
                                                 "messages": [{"role": "user", "content": PROMPT}]}),
    "Response, store: false": ("/v1/responses", {"model": "gemini-2.5-flash", "input": PROMPT, "store": False}),
    "Response, stored": ("/v1/responses", {"model": "gemini-2.5-flash", "input": PROMPT}),
}
# (module, function, phase): each function's thread CPU counts to its phase.
TIMED = (
    (chat_api, "load", "load"), (responses_api, "load", "load"),
    (chat_relay, "chat_request", "prepare"), (chat_relay, "chat_answer", "prepare"),
    (responses_relay, "response_request", "prepare"),
    (chat_relay, "generate_answer", "upstream"), (responses_relay, "generate_answer", "upstream"),
    (chat_relay, "completion_from_response", "translate"), (responses_relay, "response_from_gemini", "translate"),
    (responses_relay, "_keep", "store"),
)
PHASES = ("load", "prepare", "upstream", "translate", "store")
SPENT: Counter = Counter()


def timed(module, name: str, phase: str) -> None:
    """Counts the thread CPU of module.name into SPENT[phase]."""
    function = getattr(module, name)

    def measured(*args, **kwargs):
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[phase] += time.thread_time() - started
    setattr(module, name, measured)


def measure(folder: Path, requests: int, warm: bool) -> dict[str, Counter]:
    """Seconds of thread CPU by phase, summed over `requests` of each case (after 50 to warm up)."""
    emulator = targets.start_emulator(folder, "emulator", 0.0, 0.0, 20)
    try:
        for module, name, phase in TIMED:
            timed(module, name, phase)
        app = create_app(Settings.from_env({"GEMINI_BASE_URL": emulator.url, "LOG_LEVEL": "warning",
                                            "SIGNATURE_DB": str(folder / "signatures.sqlite3"),
                                            "RESPONSES_DB": str(folder / "responses.sqlite3")}))
        client = app.test_client()
        flush = bytearray(32 << 20)
        totals = {case: Counter() for case in CASES}
        for turn in range(50 + requests):
            for case, (path, body) in CASES.items():
                if not warm:
                    flush[::64] = b"x" * (len(flush) // 64)
                SPENT.clear()
                started = time.thread_time()
                answer = client.post(path, json=body)
                answer.get_data()
                SPENT["total"] = time.thread_time() - started
                if answer.status_code != 200:
                    raise SystemExit(f"{case}: HTTP {answer.status_code} {answer.get_data(as_text=True)[:200]}")
                if turn >= 50:
                    totals[case].update(SPENT)
        return totals
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind (default 400)")
    parser.add_argument("--warm", action="store_true", help="do not flush the CPU caches between requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="responses-cost-") as folder:
        totals = measure(Path(folder), args.requests, args.warm)
    print(f"CPU per request (us), {args.requests} of each, caches {'warm' if args.warm else 'flushed'}:\n")
    print("| request | total | " + " | ".join(PHASES) + " | rest |")
    print("|---|---:|" + "---:|" * (len(PHASES) + 1))
    for case, spent in totals.items():
        row = {phase: spent[phase] / args.requests * 1e6 for phase in ("total", *PHASES)}
        rest = row["total"] - sum(row[phase] for phase in PHASES)
        print(f"| {case} | {row['total']:.0f} | " + " | ".join(f"{row[phase]:.0f}" for phase in PHASES)
              + f" | {rest:.0f} |")


if __name__ == "__main__":
    main()
