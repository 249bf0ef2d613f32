"""CLI: python -m gemini_emulator [--host H] [--port P] [--ttft S] ..."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from collections.abc import Sequence

from gemini_emulator.config import EmulatorConfig
from gemini_emulator.server import EmulatorServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m gemini_emulator",
        description="Serve a local Gemini API emulator (generativelanguage REST wire format).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 = any)")
    parser.add_argument("--ttft", type=float, default=0.0, help="seconds to first token")
    parser.add_argument("--tokens-per-second", type=float, default=0.0,
                        help="generation pace; 0 = as fast as possible")
    parser.add_argument("--chunk-tokens", type=int, default=4, help="tokens per stream chunk")
    parser.add_argument("--max-batch", type=int, default=100,
                        help="most requests in one batchEmbedContents call")
    parser.add_argument("--api-key", action="append", default=[],
                        help="accept this key (repeat for several; default: any non-empty key)")
    parser.add_argument("--service-account-key", action="append", default=[], metavar="FILE",
                        help="a service-account JSON whose signed JWTs POST /token accepts (Vertex AI; repeat "
                             "for several)")
    parser.add_argument("--token-lifetime", type=int, default=3600,
                        help="seconds an access token from /token lives (default 3600)")
    return parser


def _service_account(path: str) -> dict:
    with open(path, encoding="utf-8") as file:
        info = json.load(file)
    if not isinstance(info, dict) or "client_email" not in info or "private_key" not in info:
        raise ValueError(f"{path}: not a service-account JSON (client_email, private_key)")
    return info


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = EmulatorConfig(
            api_keys=tuple(args.api_key),
            ttft=args.ttft,
            tokens_per_second=args.tokens_per_second,
            chunk_tokens=args.chunk_tokens,
            max_batch=args.max_batch,
            service_accounts=tuple(_service_account(path) for path in args.service_account_key),
            token_lifetime=args.token_lifetime,
        )
    except (ValueError, OSError) as exc:
        _parser().error(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    # Werkzeug's own per-request and startup lines are not wanted: this is a quiet tool.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    server = EmulatorServer(config, host=args.host, port=args.port).start()
    pace = (f"ttft={config.ttft}s, "
            + (f"{config.tokens_per_second} tokens/s" if config.tokens_per_second else
               "unpaced")
            + f", {config.chunk_tokens} tokens/chunk, "
            + (f"{len(config.api_keys)} api keys accepted" if config.api_keys else "any api key"))
    logging.getLogger("gemini_emulator").info(
        "Gemini emulator listening on %s (%s)", server.url, pace)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
