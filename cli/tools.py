"""``toolmaker tools ...``: list, show, search, export and remove registered tools."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from toolmaker.settings import get_settings
from tools_registry import LatmInfo, ToolRecord, ToolRegistry, open_registry


def _summary(registry: ToolRegistry, record: ToolRecord, score: float | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "version": record.version,
        "signature": record.signature,
        "description": record.description,
        "provenance": record.provenance.model_dump(mode="json"),
        "stats": registry.stats(record.id).model_dump(),
        "single_use": record.single_use,
    }
    if score is not None:
        row["score"] = score
    if record.latm is not None:
        row["latm"] = _latm_summary(record.latm, row["stats"]["uses"])
    return row


def _latm_summary(latm: LatmInfo, uses: int) -> dict[str, Any]:
    """A LATM tool's family, verification and making cost, and that cost spread over its uses so far."""
    making = latm.making
    per_use = None
    if uses:
        per_use = {
            "tokens": (making.input_tokens + making.output_tokens) / uses,
            "seconds": making.seconds / uses,
            "dollars": making.dollars / uses,
        }
    return {
        "family": latm.family,
        "verified": latm.verified,
        "maker_model": latm.maker_model,
        "making": making.model_dump(),
        "making_per_use": per_use,
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    table = Table("id", "version", "signature", "created", "uses", "failures", "score")
    for row in rows:
        stats = row["stats"]
        score = f"{row['score']:.2f}" if "score" in row else ""
        table.add_row(
            row["id"], str(row["version"]), row["signature"], str(stats["created"]),
            str(stats["uses"]), str(stats["failures"]), score,
            style="dim" if row["single_use"] else None,
        )  # fmt: skip
    Console().print(table)
    if single_use := sum(bool(row["single_use"]) for row in rows):
        Console().print(f"[dim]{single_use} single-use (not general, never offered for reuse)[/]")


def _find(registry: ToolRegistry, args: argparse.Namespace) -> ToolRecord | None:
    record = registry.get(args.tool, args.version)
    if record is None:
        Console(stderr=True).print(f"[red]error:[/] no registered tool {args.tool!r}")
    return record


def run_tools_command(args: argparse.Namespace) -> int:
    """Dispatch one ``toolmaker tools`` subcommand; return the exit status."""
    with open_registry(get_settings()) as registry:
        if args.tools_command in ("list", "search"):
            if args.tools_command == "list":
                rows = [_summary(registry, record) for record in registry.tools()]
            else:
                rows = [_summary(registry, r, score) for r, score in registry.search(args.query, args.k)]
            print(json.dumps(rows, indent=2)) if args.json else _print_table(rows)
            return 0
        record = _find(registry, args)
        if record is None:
            return 2
        if args.tools_command == "show":
            if args.json:
                print(
                    json.dumps(
                        {**record.model_dump(mode="json"), "stats": _summary(registry, record)["stats"]},
                        indent=2,
                    )
                )
            else:
                Console().print(
                    f"[bold]{record.id}[/] (version {record.version}) — {record.provenance.problem}"
                )
                Console().print(Syntax(record.source, "python"))
                if record.latm is not None:
                    latm = _summary(registry, record)["latm"]
                    spread = latm["making_per_use"]
                    Console().print(
                        f"LATM tool for [bold]{latm['family']}[/] (verified: {latm['verified']}), made by "
                        f"{latm['maker_model']} with {record.latm.making.calls} calls, "
                        f"{record.latm.making.seconds} s, ${record.latm.making.dollars:.4f}"
                        + (
                            f"; {spread['tokens']:.0f} making tokens per use so far"
                            if spread
                            else "; not used yet"
                        )
                    )
            return 0
        if args.tools_command == "export":
            text = json.dumps(record.model_dump(mode="json"), indent=2) if args.json else record.source
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
            else:
                print(text)
            return 0
        removed = registry.remove(args.tool, args.version)
        Console(stderr=True).print(f"removed {removed} version(s) of {args.tool}")
        return 0


def add_tools_parser(commands: Any) -> None:
    """Add ``tools`` and its subcommands to the ``toolmaker`` parser."""
    tools = commands.add_parser("tools", help="list, show, search, export or remove registered tools")
    sub = tools.add_subparsers(dest="tools_command", required=True)
    listing = sub.add_parser("list", help="every registered tool version")
    listing.add_argument("--json", action="store_true")
    search = sub.add_parser("search", help="tools that match a description, with scores")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many (default 5)")
    search.add_argument("--json", action="store_true")
    for name, help_text in (
        ("show", "one tool's record and code"),
        ("export", "a tool's code (or its record with --json)"),
        ("remove", "delete a tool version, or all versions of a name"),
    ):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("tool", help="name (latest version) or id (name@hash)")
        parser.add_argument("--version", type=int, help="a version number, with a name")
        if name != "remove":
            parser.add_argument("--json", action="store_true")
        if name == "export":
            parser.add_argument("--output", "-o", help="write to this file instead of stdout")
    tools.set_defaults(handler=run_tools_command)
