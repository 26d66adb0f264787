"""Throughput of the embedded server with one slot and with several decoding together.

Run: ``python -m benchmarks.embedded_slots [--slots 1 2] [--repeat 2] [--out results/embedded_slots.md]``.
The same greedy requests (create's default prompt on each of the project's own problems in
``benchmarks/problems.py``) go to a server with N slots from N threads at once. The table
gives wall seconds, output tokens per second, and how many replies are word for word the
one-slot reply: decoding requests together may change a greedy reply, and with it a
benchmark's rows. With ``--repeat`` the server's prompt cache serves repeats, alike for
every slot count. Numbers depend on the machine: the results file names it.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam
from rich.progress import Progress

from benchmarks.problems import PROBLEMS
from nodes.common.asking import problem_values
from prompts import load_prompt
from toolmaker.embedded.server import get_embedded_server, stop_embedded_servers
from toolmaker.settings import get_settings

MAX_TOKENS = 400


def _requests(repeat: int) -> list[list[ChatCompletionMessageParam]]:
    prompt = load_prompt("create")
    requests = []
    for problem in PROBLEMS * repeat:
        system, user = prompt.render(**problem_values(problem), self_check_request="")
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
        ]
        requests.append(messages)
    return requests


def measure(slots: int, requests: list[list[ChatCompletionMessageParam]]) -> dict[str, Any]:
    """Send every request to a fresh server with ``slots`` slots, ``slots`` at a time."""
    stop_embedded_servers()
    settings = get_settings().model_copy(update={"embedded_slots": slots})
    model = settings.maker.model
    client = OpenAI(base_url=get_embedded_server(model, settings).base_url, api_key="embedded")

    def ask(messages: list[ChatCompletionMessageParam]) -> tuple[str, int]:
        reply = client.chat.completions.create(
            model=model,
            messages=messages,
            temperature=0,
            seed=0,
            max_tokens=MAX_TOKENS,
        )
        usage = reply.usage
        return reply.choices[0].message.content or "", usage.completion_tokens if usage else 0

    with Progress() as progress, ThreadPoolExecutor(max_workers=slots) as pool:
        bar = progress.add_task(f"{slots} slot(s)", total=len(requests))
        started = time.monotonic()
        futures = [pool.submit(ask, messages) for messages in requests]
        replies = []
        for future in futures:
            replies.append(future.result())
            progress.advance(bar)
        seconds = time.monotonic() - started
    stop_embedded_servers()
    tokens = sum(count for _, count in replies)
    return {"slots": slots, "seconds": seconds, "tokens": tokens, "texts": [text for text, _ in replies]}


def report(runs: list[dict[str, Any]], requests: int, repeat: int) -> str:
    """The markdown table, against the first run (the yardstick: one slot by default)."""
    first = runs[0]
    lines = [
        "# Embedded server: one slot against several",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"model {get_settings().maker.model}; {requests} greedy requests of at most {MAX_TOKENS} tokens "
        "(create's default prompt on the project's own problems), N at once to a server with N slots.",
        "",
        f"Command: `python -m benchmarks.embedded_slots --slots {' '.join(str(r['slots']) for r in runs)} "
        f"--repeat {repeat}`",
        "",
        "| slots | wall seconds | output tokens | tokens per second | speed-up "
        f"| replies as with {first['slots']} |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        same = sum(a == b for a, b in zip(run["texts"], first["texts"], strict=True))
        rate = run["tokens"] / run["seconds"]
        lines.append(
            f"| {run['slots']} | {run['seconds']:.1f} | {run['tokens']} | {rate:.1f} | "
            f"{first['seconds'] / run['seconds']:.2f}× | {same} of {requests} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure each slot count and write the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--slots", type=int, nargs="+", default=[1, 2], help="slot counts (the first is the yardstick)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="times each problem is asked")
    parser.add_argument("--out", type=Path, default=Path("results/embedded_slots.md"))
    args = parser.parse_args()
    requests = _requests(args.repeat)
    runs = [measure(slots, requests) for slots in args.slots]
    text = report(runs, len(requests), args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text, end="")


if __name__ == "__main__":
    main()
