"""``toolmaker data ...``: fetch the benchmark datasets from upstream, or verify a folder of them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from toolmaker.datasets import FETCH_COMMAND, GITHUB_RAW, MANIFEST, datasets_dir, fetch, file_state, selected

_EXIT_INCOMPLETE = 1


def _fetch(args: argparse.Namespace) -> int:
    root = Path(args.to) if args.to else datasets_dir()
    names = selected(args.only or ())
    err = Console(stderr=True)
    if not names:
        err.print(f"[red]error:[/] no dataset file starts with {' or '.join(args.only)}")
        return _EXIT_INCOMPLETE
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task(f"fetching into {root}", total=len(names))
        outcomes = fetch(
            names,
            root,
            mirror=args.mirror,
            on_file=lambda name, outcome: progress.advance(task),
        )
    failed = {name: outcome for name, outcome in outcomes.items() if outcome not in ("present", "fetched")}
    fetched = sum(outcome == "fetched" for outcome in outcomes.values())
    err.print(f"{fetched} fetched, {len(outcomes) - fetched - len(failed)} already present in {root}")
    for name, reason in failed.items():
        err.print(f"[red]not fetched[/] {name}: {reason}")
    return _EXIT_INCOMPLETE if failed else 0


def _verify(args: argparse.Namespace) -> int:
    root = Path(args.dir) if args.dir else datasets_dir()
    states = {name: file_state(name, root) for name in selected(args.only or ())}
    if args.json:
        print(json.dumps({"dir": str(root), "files": states}, indent=2))
    else:
        table = Table("file", "state", "upstream")
        for name, state in states.items():
            colour = "green" if state == "ok" else "red"
            upstream = MANIFEST[name].upstream
            table.add_row(name, f"[{colour}]{state}[/]", f"{upstream.repo}@{upstream.commit[:10]}")
        Console().print(table)
        if any(state != "ok" for state in states.values()):
            Console(stderr=True).print(f"run `{FETCH_COMMAND}` to get the missing or altered files")
    return 0 if all(state == "ok" for state in states.values()) else _EXIT_INCOMPLETE


def add_data_parser(commands: Any) -> None:
    """Add ``data`` and its subcommands to the ``toolmaker`` parser."""
    data = commands.add_parser("data", help="fetch the benchmark datasets from upstream, or verify them")
    sub = data.add_subparsers(dest="data_command", required=True)
    fetching = sub.add_parser(
        "fetch",
        help="download the files at the upstream commits named in dataset_sources.txt, checking sha256",
    )
    fetching.add_argument("--to", help="target folder (default: the datasets folder the loaders read)")
    fetching.add_argument(
        "--mirror",
        default=GITHUB_RAW,
        help=f"raw-file host laid out as REPO/COMMIT/PATH (default {GITHUB_RAW})",
    )
    verifying = sub.add_parser("verify", help="which dataset files are present with their published bytes")
    verifying.add_argument("--dir", help="folder to check (default: the datasets folder the loaders read)")
    verifying.add_argument("--json", action="store_true", help="print one JSON object")
    for parser in (fetching, verifying):
        parser.add_argument(
            "--only",
            action="append",
            metavar="PREFIX",
            help="only files whose path starts with PREFIX, e.g. math/ or tabmwp/ (repeatable)",
        )
    fetching.set_defaults(handler=_fetch)
    verifying.set_defaults(handler=_verify)
