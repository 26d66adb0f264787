"""The toolmaker agent on 20 questions of our own: half need a new tool, half can reuse one.

Ten capabilities, each asked twice in other words with other values. The ten first
askings come first, on an empty registry, so each needs a tool made (and sees the tools
made before it, which do not fit); the ten second askings follow in another order and
can reuse what was made. Per question: right or not, tools made, tools reused, model
calls (the agent's and those inside tool making) and seconds.

Run: ``python -m benchmarks.agent_questions [--out results/agent_questions.jsonl]``.
Resumable: answered questions are kept, and the registry lives beside the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import ToolMessage
from rich.progress import track
from typing_extensions import TypedDict

from evaluation.rows import read_rows
from graphs.agent import MAKE_TOOL, AgentContext, build_toolmaker_agent
from nodes.common.grading import grade_numeric
from tools_registry import sqlite_registry


class Question(TypedDict):
    """One question, the capability it needs, and whether that capability is asked for the first time."""

    id: str
    capability: str
    asking: Literal["new", "reuse"]
    question: str
    answer: float


def _pair(capability: str, first: tuple[str, float], second: tuple[str, float]) -> list[Question]:
    return [
        {"id": f"{capability}-1", "capability": capability, "asking": "new", "question": first[0],
         "answer": first[1]},
        {"id": f"{capability}-2", "capability": capability, "asking": "reuse", "question": second[0],
         "answer": second[1]},
    ]  # fmt: skip


PAIRS = [
    _pair("celsius", ("What is 72 degrees Celsius in Fahrenheit?", 161.6),
          ("Convert -12 degrees Celsius to Fahrenheit.", 10.4)),
    _pair("digit-sum", ("What is the sum of the digits of 3**40?", 90), ("Add up the digits of 7**25.", 97)),
    _pair("interest", ("A deposit of $1500 earns 4% interest per year, compounded yearly. What is it worth "
                       "after 6 years, in dollars, rounded to the cent?", 1897.98),
          ("$800 is saved at 3% a year, compounded yearly, for 12 years. How many dollars is that, "
           "to the cent?", 1140.61)),
    _pair("primes", ("How many prime numbers are less than 200?", 46),
          ("How many primes are below 500?", 95)),
    _pair("trailing-zeros", ("How many trailing zeros does 250! have?", 62),
          ("How many zeros does 1000 factorial end with?", 249)),
    _pair("gcd", ("What is the greatest common divisor of 1071 and 462?", 21),
          ("Find the greatest common divisor of 252 and 198.", 18)),
    _pair("hypotenuse", ("A right triangle has legs of length 8 and 15. How long is its hypotenuse?", 17),
          ("What is the hypotenuse of a right triangle whose legs are 20 and 21?", 29)),
    _pair("days", ("How many days are there from 2025-03-14 to 2025-12-25?", 286),
          ("How many days lie between 2026-01-01 and 2026-07-04?", 184)),
    _pair("fibonacci", ("What is the 25th Fibonacci number, with F(1) = F(2) = 1?", 75025),
          ("With F(1) = F(2) = 1, what is F(40) in the Fibonacci sequence?", 102334155)),
    _pair("vowels", ("How many vowels are in the word 'encyclopedia'?", 5),
          ("Count the vowels in 'onomatopoeia'.", 8)),
]  # fmt: skip
REUSE_ORDER = [2, 6, 0, 8, 4, 9, 1, 7, 3, 5]
QUESTIONS: list[Question] = [pair[0] for pair in PAIRS] + [PAIRS[i][1] for i in REUSE_ORDER]


class ModelCalls(BaseCallbackHandler):
    """Counts chat model calls and their tokens, nested runs (tool making) included."""

    def __init__(self) -> None:
        self.calls = 0
        self.tokens = 0

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:  # noqa: D102
        self.calls += 1

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:  # noqa: D102
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
                self.tokens += usage.get("total_tokens", 0)


def ask(agent: Any, question: Question, before: set[str]) -> dict[str, Any]:
    """One question's row; ``before`` holds the names of the tools registered before it."""
    counter = ModelCalls()
    start = time.perf_counter()
    state = agent.invoke(
        {"messages": [("user", question["question"])]},
        config={"callbacks": [counter]},
        context=AgentContext(),
    )
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    made = [m for m in results if m.name == MAKE_TOOL and m.status == "success"]
    used = [str(m.name) for m in results if m.name != MAKE_TOOL and m.status == "success"]
    return {
        **question,
        "answer_given": state.get("answer"),
        "correct": grade_numeric(state.get("answer"), str(question["answer"])),
        "tools_made": [json.loads(m.text)["name"] for m in made],
        "makings_failed": [str(m.text) for m in results if m.name == MAKE_TOOL and m.status == "error"],
        "tools_used": used,
        "calls_failed": [str(m.text) for m in results if m.name != MAKE_TOOL and m.status == "error"],
        "tools_reused": [name for name in used if name in before],
        "model_calls": counter.calls,
        "agent_turns": state.get("steps", 0),
        "tokens": counter.tokens,
        "seconds": round(time.perf_counter() - start, 2),
    }


def run(out: Path, registry_path: Path) -> list[dict[str, Any]]:
    """Ask every question not yet in ``out``, in order, with one registry throughout; all rows."""
    rows = read_rows(out)
    done = {row["id"] for row in rows}
    with sqlite_registry(registry_path) as registry:
        agent = build_toolmaker_agent().compile(store=registry.store)
        for question in track([q for q in QUESTIONS if q["id"] not in done], description="agent questions"):
            before = {record.name for record in registry.tools()}
            row = ask(agent, question, before)
            rows.append(row)
            with out.open("a") as handle:
                handle.write(json.dumps(row) + "\n")
    return rows


def _first_failure(row: dict[str, Any]) -> str:
    failures = [*row["makings_failed"], *row["calls_failed"]]
    return failures[0][:120].replace("|", "/").replace("\n", " ") if failures else ""


def summarise(rows: list[dict[str, Any]], note: str = "") -> str:
    """The table per kind of asking, and every question's row (``note``: what else ran on the machine)."""
    lines = [
        f"`python -m benchmarks.agent_questions` on {platform.machine()}, {os.cpu_count()} cores: "
        "`build_toolmaker_agent()` on the embedded models (Qwen2.5-Coder-1.5B-Instruct makes the tools "
        "and drives the agent), greedy decoding, one registry for all questions, empty at the start. "
        f"{len(QUESTIONS)} questions of our own (`benchmarks/agent_questions.py`): ten capabilities, "
        "each asked first on its own (a new tool is needed), then again in other words with other values "
        "after all ten were asked (a made tool can be reused). Model calls count those inside tool making.",
        *([f"While it ran: {note}."] if note else []),
        "",
        "| asking | questions | right | tools made | questions that reused a tool "
        "| ... the tool made for it | model calls / question | agent turns / question | seconds / question |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    made_for = {row["capability"]: row["tools_made"] for row in rows if row["asking"] == "new"}
    for asking in ("new", "reuse", None):
        group = [row for row in rows if asking is None or row["asking"] == asking]
        if not group:
            continue
        lines.append(
            f"| {asking or 'all'} | {len(group)} | {sum(r['correct'] for r in group)} "
            f"| {sum(len(r['tools_made']) for r in group)} | {sum(bool(r['tools_reused']) for r in group)} "
            f"| {sum(bool(set(r['tools_reused']) & set(made_for.get(r['capability'], []))) for r in group)} "
            f"| {statistics.mean(r['model_calls'] for r in group):.1f} "
            f"| {statistics.mean(r['agent_turns'] for r in group):.1f} "
            f"| {statistics.mean(r['seconds'] for r in group):.0f} |"
        )
    header = "| question | asking | gold | answer | right | made | reused | model calls | s | what failed |"
    lines += ["", header, "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(
            f"| {row['id']} | {row['asking']} | {row['answer']} | {row['answer_given']} "
            f"| {'yes' if row['correct'] else 'no'} | {', '.join(row['tools_made']) or '—'} "
            f"| {', '.join(row['tools_reused']) or '—'} | {row['model_calls']} | {row['seconds']:.0f} "
            f"| {_first_failure(row)} |"
        )
    return "\n".join(lines) + "\n"


def write_plot(rows: list[dict[str, Any]], path: Path) -> Path:
    """Model calls and seconds per question, in the order asked; a question answered right is filled."""
    import matplotlib

    matplotlib.use("Agg")  # files only
    import matplotlib.pyplot as plt

    figure, panels = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    positions = range(1, len(rows) + 1)
    for axes, key, label in ((panels[0], "model_calls", "model calls"), (panels[1], "seconds", "seconds")):
        colours = ["tab:blue" if row["asking"] == "new" else "tab:green" for row in rows]
        axes.bar(positions, [row[key] for row in rows], color=[c if r["correct"] else "white" for c, r in
                 zip(colours, rows, strict=True)], edgecolor=colours)  # fmt: skip
        axes.set_ylabel(label)
    panels[1].set_xticks(list(positions), [row["id"] for row in rows], rotation=60, ha="right", fontsize=7)
    panels[0].set_title(
        "The toolmaker agent, question by question: blue = first asking (a tool must be made), "
        "green = second asking;\nfilled = answered right, hollow = wrong",
        fontsize=9,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main() -> None:
    """Parse arguments, run, and write the JSONL rows and the markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("results/agent_questions.jsonl"))
    parser.add_argument("--note", default="", help="what else ran on the machine, for the results file")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = run(args.out, args.out.with_suffix(".registry.sqlite"))
    summary = summarise(rows, args.note)
    args.out.with_suffix(".md").write_text(summary)
    write_plot(rows, args.out.parent / "plots" / f"{args.out.stem}.png")
    print(summary)


if __name__ == "__main__":
    main()
