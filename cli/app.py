"""The ``toolmaker`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from cli.data import add_data_parser
from cli.latm import add_latm_parser
from cli.mcp_command import add_mcp_parser
from cli.prompting import (
    any_node_prompt_choice,
    creator_prompt_nodes,
    prompt_choice,
    prompt_nodes,
    prompt_overrides,
)
from cli.solving import add_runs_parser, add_solve_parser
from cli.tools import add_tools_parser
from toolmaker import __version__

_EXIT_FAILED, _EXIT_ERROR = 1, 2


def _serve(args: argparse.Namespace) -> int:
    import time

    from toolmaker.embedded.server import get_embedded_server
    from toolmaker.settings import get_settings

    server = get_embedded_server(args.model, get_settings())
    print(f"serving {args.model} at {server.base_url} (Ctrl-C to stop)", flush=True)
    try:
        while server.is_healthy():
            time.sleep(2)
    except KeyboardInterrupt:
        pass
    return 0


def _exec(args: argparse.Namespace) -> int:
    from sandbox import BackendUnavailable, Limits, configured_executor, get_executor

    err = Console(stderr=True)
    try:
        executor = get_executor(args.backend) if args.backend else configured_executor()
        source = Path(args.file).read_text(encoding="utf-8")
    except (BackendUnavailable, OSError) as exc:
        err.print(f"[red]error:[/] {exc}")
        return _EXIT_ERROR
    result = executor.run(source, limits=Limits(wall_seconds=args.timeout, memory_mb=args.memory_mb))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        sys.stdout.write(result["stdout"])
        sys.stdout.flush()
        sys.stderr.write(result["stderr"])
        if result["error"]:
            err.print(f"[red]{result['error']['type']}:[/] {result['error']['message']}")
        layers = ", ".join(result["confinement"]) or "process limits only"
        err.print(f"[dim]{result['status']} · {result['backend']} ({layers}) · {result['seconds']} s[/]")
    return 0 if result["status"] == "ok" else _EXIT_FAILED


def _experiment_command(args: argparse.Namespace) -> str:
    """The command line that reproduces this experiment run, for its report."""
    from evaluation.presets import experiment_command

    options = ["--n", str(args.n), "--seed", str(args.seed), "--out-dir", args.out_dir]
    for flag in ("model", "base_url"):
        if getattr(args, flag):
            options += [f"--{flag.replace('_', '-')}", getattr(args, flag)]
    for choice in args.prompt_variant or []:
        options += ["--prompt-variant", choice]
    for column in args.column or []:
        options += ["--column", column]
    return experiment_command(args.preset, options)


def _run_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.model:
        overrides["maker_model"] = args.model
    if args.base_url:
        overrides["maker_base_url"] = args.base_url
    return {**overrides, **prompt_overrides(args.prompt_variant)}


def _batch_stopped(exc: Exception) -> int:
    """Say why a batch stopped; its exit code (a budget reached is no error: the rows are kept)."""
    from evaluation.rows import BudgetReached

    if isinstance(exc, BudgetReached):
        Console(stderr=True).print(f"[yellow]budget:[/] {exc}")
        return _EXIT_FAILED
    Console(stderr=True).print(f"[red]error:[/] {exc}")
    return _EXIT_ERROR


def _reproducible_replies() -> None:
    """Benchmarks run the embedded server without its prompt cache unless told otherwise.

    With the cache, a greedy reply depends on the request before it, so a results file
    would not be made again by its own command; without it, replies repeat, for somewhat
    more model time (measured in the README's Measured section).
    """
    from toolmaker.settings import ENV_PREFIX, get_settings

    variable = f"{ENV_PREFIX}EMBEDDED_PROMPT_CACHE"
    if not os.environ.get(variable):  # unset, or set empty: the settings' default
        os.environ[variable] = "off"
    get_settings.cache_clear()


def _bench(args: argparse.Namespace) -> int:
    from evaluation.rows import BenchError, BudgetReached
    from evaluation.runner import matching_calls, run_bench
    from toolmaker.datasets import DatasetError

    _reproducible_replies()
    # An items file's rows go to results/METHOD-STEM.jsonl (a dataset name is its own stem).
    out = Path(args.out or f"results/{args.method}-{Path(args.dataset).stem}.jsonl")
    per_item = matching_calls(Path(args.match_calls)) if args.match_calls else None
    try:
        rows = run_bench(
            args.dataset,
            args.method,
            out,
            n=args.n,
            seed=args.seed,
            context_overrides=_run_overrides(args),
            item_overrides=per_item,
            concurrency=args.concurrency,
            budget=args.budget,
        )
    except (BudgetReached, DatasetError, BenchError) as exc:
        return _batch_stopped(exc)
    correct = sum(row["correct"] for row in rows)
    Console(stderr=True).print(f"{correct}/{len(rows)} new items correct; all rows in {out}")
    return 0


def _unsupported_experiment_options(args: argparse.Namespace) -> str | None:
    """Why the options cannot go with the preset, so none is silently ignored; None if they can."""
    from evaluation.latm import EXPERIMENT as LATM
    from evaluation.making_variants import EXPERIMENT as LATM_MAKING
    from evaluation.making_variants import MAKER_NODES
    from evaluation.presets import PRESETS
    from evaluation.transfer import EXPERIMENT as TRANSFER

    latm = args.preset.startswith(LATM)  # latm, latm-dispatch and latm-making
    latm_presets = (LATM, LATM_MAKING)
    if args.task and args.preset not in latm_presets:
        return f"--task goes with {' and '.join(latm_presets)} only"
    if args.column and args.preset not in PRESETS:
        return f"--column goes with the presets of columns only ({', '.join(PRESETS)})"
    if args.column and args.report_only:
        return "--column chooses the columns to grow, and --report-only grows none (its report shows all)"
    if args.report_only and not Path(args.out_dir).is_dir():
        return f"--report-only: {args.out_dir} does not exist, so there are no rows to report; run without it"
    if args.column:
        try:
            PRESETS[args.preset].only(args.column)
        except ValueError as exc:
            return str(exc)
    if latm and (args.model or args.base_url):
        return (
            f"{args.preset} takes its maker and user models from the settings "
            "(TOOLMAKER_MAKER_MODEL, TOOLMAKER_USER_MODEL and their _BASE_URL), not --model/--base-url"
        )
    if (latm or args.preset == TRANSFER) and args.concurrency != 1:
        return f"{args.preset} runs one item at a time; --concurrency is not supported"
    if args.preset == TRANSFER and any("{dataset}" in choice for choice in args.prompt_variant or []):
        return (
            "transfer's scenarios belong to no dataset family, so {dataset} stands for nothing there; "
            "name the variant (demos-creation, say)"
        )
    nodes = prompt_nodes(args.prompt_variant)
    if args.preset == LATM_MAKING and (other := nodes - set(MAKER_NODES)):
        makers = ", ".join(MAKER_NODES)
        return f"latm-making compares the maker's prompts ({makers}), not {', '.join(sorted(other))}"
    if latm and args.preset != LATM_MAKING and nodes:
        return f"{args.preset} runs the shipped prompts; compare maker prompts with latm-making"
    if not latm and (other := nodes - set(creator_prompt_nodes())):
        return f"{args.preset} runs CREATOR's nodes and the baselines', not {', '.join(sorted(other))}"
    return None


def _experiment(args: argparse.Namespace) -> int:
    from evaluation.dispatch import EXPERIMENT as DISPATCH
    from evaluation.dispatch import run_dispatch, seeded_tasks, write_dispatch_report
    from evaluation.latm import EXPERIMENT as LATM
    from evaluation.latm import TASKS, run_latm, write_latm_report
    from evaluation.making_variants import EXPERIMENT as LATM_MAKING
    from evaluation.making_variants import run_making_variants, write_making_variants_report
    from evaluation.presets import PRESETS, run_preset, write_preset_report
    from evaluation.rows import BenchError, BudgetReached
    from evaluation.transfer import EXPERIMENT as TRANSFER
    from evaluation.transfer import report_transfer, run_transfer
    from toolmaker.datasets import DatasetError

    folder = Path(args.out_dir)
    if problem := _unsupported_experiment_options(args):
        Console(stderr=True).print(f"[red]error:[/] {problem}")
        return _EXIT_ERROR
    _reproducible_replies()
    tasks = tuple(args.task or TASKS)
    try:
        if args.preset == LATM_MAKING:
            if args.report_only:
                report = write_making_variants_report(folder)
            else:  # the options were checked: the overrides are maker prompt variants only
                report = run_making_variants(folder, _run_overrides(args), tasks=tasks, budget=args.budget)
        elif args.preset == DISPATCH and args.report_only:
            seeded = seeded_tasks(folder)
            report = write_dispatch_report(folder, seeded=seeded, per_task=args.n, seed=args.seed)
        elif args.preset == DISPATCH:
            report = run_dispatch(folder, per_task=args.n, seed=args.seed, budget=args.budget)
        elif args.preset == LATM:
            if args.report_only:
                report = write_latm_report(folder, n=args.n, seed=args.seed)
            else:
                report = run_latm(
                    folder, n=args.n, step=args.step, seed=args.seed, tasks=tasks, budget=args.budget
                )
        elif args.preset == TRANSFER and args.report_only:
            report = report_transfer(folder, n=args.n, seed=args.seed, command=_experiment_command(args))
        elif args.preset == TRANSFER:
            report = run_transfer(
                folder,
                n=args.n,
                seed=args.seed,
                context_overrides=_run_overrides(args),
                budget=args.budget,
                command=_experiment_command(args),
            )
        else:
            preset = PRESETS[args.preset]
            command = _experiment_command(args)
            if args.report_only:
                report = write_preset_report(preset, folder, n=args.n, seed=args.seed, command=command)
            else:
                report = run_preset(
                    preset,
                    folder,
                    n=args.n,
                    step=args.step,
                    seed=args.seed,
                    context_overrides=_run_overrides(args),
                    command=command,
                    concurrency=args.concurrency,
                    budget=args.budget,
                    columns=args.column or (),
                )
    except (BudgetReached, DatasetError, BenchError) as exc:
        return _batch_stopped(exc)
    print(report.read_text(encoding="utf-8"), end="")
    return 0


def _report(args: argparse.Namespace) -> int:
    from evaluation.report import labelled_rows, markdown_report
    from evaluation.runner import regrade

    try:
        rows = regrade(labelled_rows(args.results))
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        return _EXIT_ERROR
    columns = {row["method"] for row in rows}
    comparisons = [(column, baseline) for column, baseline in args.compare or []]
    if same := [column for column, baseline in comparisons if column == baseline]:
        Console(stderr=True).print(f"[red]error:[/] --compare sets {same[0]!r} against itself")
        return _EXIT_ERROR
    if unknown := sorted({name for pair in comparisons for name in pair} - columns):
        Console(stderr=True).print(
            f"[red]error:[/] --compare names no column {unknown}; the columns: {sorted(columns)}"
        )
        return _EXIT_ERROR
    text = markdown_report(rows, comparisons=comparisons)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    if args.plots:
        from evaluation.plots import write_plots

        for path in write_plots(rows, Path(args.plots)):
            Console(stderr=True).print(f"wrote {path}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from langgraph.graph.state import CompiledStateGraph

    from graphs import creator, latm

    graphs: dict[str, CompiledStateGraph[Any, Any, Any, Any]] = {
        "creator": creator.graph,
        "latm-tool-maker": latm.tool_maker_graph,
        "latm-tool-user": latm.tool_user_graph,
        "latm-dispatcher": latm.dispatcher_graph,
    }
    print(graphs[args.name].get_graph().draw_mermaid(), end="")
    return 0


def _dataset_choice(text: str) -> str:
    from evaluation.rows import BenchError
    from evaluation.runner import DATASETS, resolve_dataset

    try:
        resolve_dataset(text)
    except BenchError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if text not in DATASETS and not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no items file {text}")
    return text


def _budget(text: str) -> Any:
    from toolmaker.costs import Budget, PriceError

    try:
        return Budget.parse(text)
    except PriceError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _add_run_options(
    parser: argparse.ArgumentParser, variant_type: Callable[[str], str] = prompt_choice
) -> None:
    parser.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="items solved at once (default 1; worth raising for remote endpoints only)",
    )
    parser.add_argument("--model", help="model of the maker role")
    parser.add_argument("--base-url", help="OpenAI-compatible base URL of the maker role")
    parser.add_argument(
        "--budget",
        type=_budget,
        help="stop before passing this many tokens (200000) or dollars ($0.50), counting the rows "
        "already written; a rerun with a larger one goes on",
    )
    parser.add_argument(
        "--prompt-variant",
        action="append",
        metavar="[NODE=]VARIANT",
        type=variant_type,
        help="a prompt variant (name, .md path or the prompt's text) for NODE (default create); "
        "repeat for several nodes; {dataset} in it is the dataset's family "
        "(demos-{dataset} is demos-math on math-full)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``toolmaker`` command."""
    parser = argparse.ArgumentParser(
        prog="toolmaker", description="Language models that make their own tools."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    add_solve_parser(commands)
    add_runs_parser(commands)

    serve = commands.add_parser("serve", help="serve an embedded model on 127.0.0.1 until stopped")
    serve.add_argument("--model", default="qwen2.5-coder-1.5b", help="embedded model name or .gguf path")
    serve.set_defaults(handler=_serve)

    run = commands.add_parser("exec", help="run a Python file in the sandbox and report the result")
    run.add_argument("file", help="the Python file to run")
    run.add_argument("--timeout", type=float, default=5.0, help="wall-clock seconds (default 5)")
    run.add_argument("--memory-mb", type=int, default=1024, help="address-space limit (default 1024)")
    run.add_argument("--backend", help="sandbox backend (default: TOOLMAKER_SANDBOX, else auto = strongest)")
    run.add_argument("--json", action="store_true", help="print one JSON object")
    run.set_defaults(handler=_exec)

    add_tools_parser(commands)
    add_data_parser(commands)
    add_latm_parser(commands)
    add_mcp_parser(commands)

    from evaluation.dispatch import EXPERIMENT as DISPATCH
    from evaluation.latm import EXPERIMENT as LATM
    from evaluation.latm import TASKS
    from evaluation.making_variants import EXPERIMENT as LATM_MAKING
    from evaluation.presets import PRESETS
    from evaluation.runner import DATASETS, METHODS
    from evaluation.transfer import EXPERIMENT as TRANSFER

    bench = commands.add_parser("bench", help="run a method on a dataset (resumable JSONL rows)")
    bench.add_argument(
        "--dataset",
        required=True,
        type=_dataset_choice,
        metavar="NAME|FILE.jsonl",
        help=f"one of {', '.join(DATASETS)}; or a JSONL file of one's own items, per line an object "
        "with question and answer, optionally table, level and id",
    )
    bench.add_argument("--method", default="creator", choices=list(METHODS))
    bench.add_argument("--n", type=int, help="items to sample (default: all)")
    bench.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    bench.add_argument("--out", help="results file (default results/METHOD-DATASET.jsonl)")
    _add_run_options(bench)
    bench.add_argument(
        "--match-calls",
        metavar="RESULTS",
        help="per item, as many vote samples as that item's row in RESULTS made model calls (pot-vote)",
    )
    bench.set_defaults(handler=_bench)

    experiment = commands.add_parser(
        "experiment",
        help="run a paper experiment resumably: main, rounds, hints, quality (cells of methods x datasets) "
        "or transfer (tools made on one scenario reused on two others), "
        "or latm (LATM's six Big-Bench tasks: tools made with 3 seeds, used by the user and the maker), "
        "or latm-dispatch (a mixed stream of them, two tasks without a tool at the start; --n per task), "
        "or latm-making (maker prompt variants, each making every task's tool from LATM's spare demos)",
    )
    experiment.add_argument("preset", choices=[*PRESETS, TRANSFER, LATM, DISPATCH, LATM_MAKING])
    experiment.add_argument(
        "--task",
        action="append",
        choices=TASKS,
        help="latm and latm-making: only this Big-Bench task (repeat for several; default all six)",
    )
    experiment.add_argument(
        "--column",
        action="append",
        metavar="LABEL",
        help="a column of the preset (e.g. creator-general): grow only it, and the column it is matched to; "
        "repeat for several; the report shows every column with rows",
    )
    experiment.add_argument("--n", type=int, default=30, help="items per dataset (default 30)")
    experiment.add_argument("--step", type=int, default=5, help="grow all cells this many items at a time")
    experiment.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    experiment.add_argument(
        "--out-dir",
        default="results/embedded",
        help="results folder, shared by presets",
    )
    experiment.add_argument(
        "--report-only", action="store_true", help="only rewrite the report from the rows"
    )
    _add_run_options(experiment, any_node_prompt_choice)
    experiment.set_defaults(handler=_experiment)

    report = commands.add_parser("report", help="markdown tables from benchmark results")
    report.add_argument(
        "results",
        nargs="+",
        metavar="[LABEL=]FILE",
        help="JSONL files written by 'toolmaker bench'; LABEL= (no '=' in it) names the column of a "
        "file's rows (its method by default), so one method's runs in two configurations stand side by side",
    )
    report.add_argument(
        "--compare",
        nargs=2,
        action="append",
        metavar=("COLUMN", "BASELINE"),
        help="a paired sign test of COLUMN against BASELINE on the items both have; repeat for more",
    )
    report.add_argument("--out", help="also write the markdown to this file")
    report.add_argument("--plots", help="also write PNG plots into this folder")
    report.set_defaults(handler=_report)

    graph = commands.add_parser("graph", help="print a graph as a mermaid diagram (default: CREATOR)")
    graph.add_argument(
        "name",
        nargs="?",
        default="creator",
        choices=["creator", "latm-tool-maker", "latm-tool-user", "latm-dispatcher"],
    )
    graph.set_defaults(handler=_graph)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``toolmaker`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
