"""End to end on the real embedded models, offline. Slow (tens of seconds per test)."""

import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from graphs.creator import build_creator_graph
from nodes import CreatorContext
from toolmaker.embedded.server import get_embedded_server, resolve_gguf
from toolmaker.models import EndpointModels, ModelRequest
from toolmaker.settings import get_settings

pytestmark = pytest.mark.integration

BROKEN_TOOL = '''def sum_of_digits(number: int) -> int:
    """Return the sum of the decimal digits of a non-negative integer."""
    return sum(str(number))
'''


FRESH_PROCESS = """
import json, sys
from toolmaker.settings import get_settings
from tools_registry import sqlite_registry
from tools_registry.langchain_tools import as_langchain_tools

with sqlite_registry(get_settings().registry_path) as registry:
    (tool,) = as_langchain_tools(registry)
    required = tool.args_schema.model_json_schema()["required"]
    values = json.loads(sys.argv[1])[str(len(required))]
    print(tool.invoke(dict(zip(required, values))))
"""
# The digit sum of 2**100 by however many arguments the model's tool takes.
ARGUMENTS_BY_ARITY = json.dumps({"1": [2**100], "2": [2, 100]})


def test_cli_solves_the_readme_problem_with_json_output():
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "solve",
            "What is the sum of the digits of 2**100?",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["answer"] == "115" and report["status"] == "solved"
    assert report["tool"]["code"].lstrip().startswith(("def ", "import ", "from "))
    assert "sum_of_digits" in report["call"] or report["tool"]["name"] in report["call"]
    assert report["tokens"]["maker"]["output"] > 0 and report["seconds"] > 0
    assert len(report["attempts"]) == report["rounds"] + 1

    listed = subprocess.run(
        [sys.executable, "-m", "cli", "tools", "list", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    (row,) = json.loads(listed.stdout)
    assert row["id"] == report["tool_id"]
    assert row["provenance"]["problem"] == "What is the sum of the digits of 2**100?"
    assert row["provenance"]["model"] == "qwen2.5-coder-1.5b"

    # A fresh process loads the stored tool as a LangChain tool and invokes it.
    fresh = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, ARGUMENTS_BY_ARITY],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == "115"


def test_real_model_rectifies_a_broken_tool():
    """Seed a thread as if create and decide had produced a buggy tool, then resume."""
    graph = build_creator_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "rectify-on-real-model"}}
    graph.update_state(
        config,
        {
            "problem": "What is the sum of the digits of 2**100?",
            "tool": {
                "name": "sum_of_digits",
                "code": BROKEN_TOOL,
                "docstring": "Return the sum of the decimal digits of a non-negative integer.",
                "signature": "sum_of_digits(number: int) -> int",
            },
            "checks": "",
            "call": "print(sum_of_digits(2 ** 100))",
            "rounds": 0,
            "status": "running",
            "last_fix": "none",
        },
        as_node="decide",
    )
    final = graph.invoke(None, config, context=CreatorContext(self_checks=False))
    first, *rest = final["attempts"]
    assert first["result"]["status"] == "error" and "TypeError" in first["failure"]
    assert final["status"] == "solved" and final["answer"] == "115"
    assert rest[-1]["fixed"] in {"tool", "both"}


def test_both_roles_are_served_and_a_dead_server_is_restarted():
    settings = get_settings()
    models = EndpointModels(settings)
    user = models(ModelRequest(role="user", max_tokens=16))
    reply = user.invoke("Reply with the single word: ready")
    assert reply.content.strip() and reply.usage_metadata["output_tokens"] > 0
    server = get_embedded_server(settings.user.model, settings)
    assert server.is_healthy()
    assert get_embedded_server(settings.user.model, settings) is server
    server.stop()
    assert not server.is_healthy()
    again = models(ModelRequest(role="user", max_tokens=16)).invoke("Reply with the single word: ready")
    assert again.content.strip()
    restarted = get_embedded_server(settings.user.model, settings)
    assert restarted is not server and restarted.is_healthy()


PRICES = "Stationery prices\n\nitem | price\nsticker | $0.25\nmarker | $1.10\nnotebook | $2.35\nruler | $0.90"
# TabMWP-style items of our own, so the smoke bench needs none of the benchmark files.
TABLE_ITEMS = [
    {"question": "How much money does Ann need to buy a notebook and a ruler?", "answer": 3.25},
    {"question": "How much more does a notebook cost than a marker?", "answer": 1.25},
]


def test_smoke_bench_on_two_tabmwp_style_items_and_its_report(tmp_path):
    items = tmp_path / "prices.jsonl"
    items.write_text("".join(json.dumps(item | {"table": PRICES}) + "\n" for item in TABLE_ITEMS))
    out = tmp_path / "smoke.jsonl"
    command = [
        sys.executable,
        "-m",
        "cli",
        "bench",
        "--dataset",
        str(items),
        "--n",
        "2",
        "--out",
        str(out),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2 and all(row["status"] in {"solved", "failed"} for row in rows)
    assert sorted((row["id"], row["gold"]) for row in rows) == [("prices/1", "3.25"), ("prices/2", "1.25")]
    assert all(isinstance(row["correct"], bool) and row["tokens"]["maker"]["calls"] >= 2 for row in rows)
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    assert "0/0 new items" in rerun.stderr and len(out.read_text().splitlines()) == 2
    report = subprocess.run(
        [sys.executable, "-m", "cli", "report", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| creator |" in report.stdout and "(2)" in report.stdout


SERVER_OWNER = """
import json, threading, time
from toolmaker.embedded.server import get_embedded_server
from toolmaker.settings import get_settings

settings = get_settings()
started = {}
model = settings.user.model
worker = threading.Thread(target=lambda: started.update(server=get_embedded_server(model, settings)))
worker.start()
worker.join()  # the thread that started the server is gone, as a benchmark's worker threads go
time.sleep(2)
server = started["server"]
print(json.dumps({"pid": server.process.pid, "healthy": server.is_healthy()}), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        return " Z " not in open(f"/proc/{pid}/stat").read()  # a zombie has stopped
    except FileNotFoundError:
        return False


def test_server_outlives_the_thread_that_started_it_but_not_its_process():
    owner = subprocess.Popen([sys.executable, "-c", SERVER_OWNER], stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(owner.stdout.readline())
        assert started["healthy"] and _running(started["pid"])
    finally:
        owner.kill()  # SIGKILL: no atexit handler runs, only the kernel closes the pipe
        owner.wait()
    deadline = time.monotonic() + 15
    while _running(started["pid"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(started["pid"])


def _decoding(address: str) -> bool:
    with urllib.request.urlopen(address + "/slots", timeout=5) as reply:
        return any(slot["is_processing"] for slot in json.loads(reply.read()))


def _ask_for_a_long_reply(address: str, outcome: dict[str, str]) -> None:
    body = {
        "messages": [{"role": "user", "content": "Count from 1 to 3000, one number a line."}],
        "max_tokens": 3000,
    }
    request = urllib.request.Request(
        address + "/v1/chat/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        urllib.request.urlopen(request, timeout=300).read()
        outcome["reply"] = "finished"
    except (OSError, http.client.HTTPException):
        outcome["reply"] = "cut off"


@pytest.mark.parametrize("told_by", ["SIGTERM", "its owner's end of stdin closing"])
def test_server_stops_at_once_when_told_to_while_it_decodes_a_reply(told_by, tmp_path):
    """llama.cpp's own shutdown waited for ever with a request in flight (seen past 120 s)."""
    settings = get_settings()
    command = [
        sys.executable,
        "-m",
        "toolmaker.embedded.serve",
        "--model",
        str(resolve_gguf(settings.user.model, settings)),
    ]
    log = tmp_path / "server.log"
    outcome: dict[str, str] = {}
    with (
        log.open("wb") as stderr,
        subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr) as server,
    ):
        try:
            address = json.loads(server.stdout.readline())["address"]
            asking = threading.Thread(target=_ask_for_a_long_reply, args=(address, outcome), daemon=True)
            asking.start()
            deadline = time.monotonic() + 60
            while not _decoding(address):
                assert time.monotonic() < deadline, "the request never reached a slot"
                time.sleep(0.2)
            if told_by == "SIGTERM":
                server.terminate()
            else:
                server.stdin.close()
            assert server.wait(timeout=15) == 0, log.read_text(errors="replace")[-2000:]
            asking.join(timeout=15)
            assert outcome == {"reply": "cut off"}  # the stop came while the reply was decoded
        finally:
            server.kill()


@pytest.mark.datasets
def test_latm_the_maker_makes_a_word_sorting_tool_and_the_user_answers_three_test_items_with_it():
    from langgraph.store.memory import InMemoryStore

    from evaluation.datasets import load_bbh
    from graphs.latm import build_tool_maker_graph, build_tool_user_graph
    from nodes.common.grading import grade_bbh
    from nodes.latm import LatmContext
    from tools_registry import ToolRegistry

    demos = {split: load_bbh("word_sorting", split)[:3] for split in ("train", "valid")}
    store = InMemoryStore()
    made = (
        build_tool_maker_graph()
        .compile(store=store)
        .invoke(
            {
                "task": "word_sorting",
                "train": [{"question": i["question"], "answer": i["answer"]} for i in demos["train"]],
                "valid": [{"question": i["question"], "answer": i["answer"]} for i in demos["valid"]],
            },
            context=LatmContext(),
        )
    )
    assert made["status"] == "verified", made.get("reason")
    record = ToolRegistry(store).get(made["tool_id"])
    assert record.latm.family == "word_sorting" and all(check.passed for check in record.verification)
    user = build_tool_user_graph().compile(store=store)
    answers = []
    for item in load_bbh("word_sorting", "test")[:3]:
        state = user.invoke({"request": item["question"], "tool_id": record.id}, context=LatmContext())
        assert set(state["tokens"]) == {"user"}  # the maker is never asked
        answers.append(grade_bbh(state["answer"], item["answer"], "word_sorting"))
    assert sum(answers) >= 2, answers


def test_the_agent_makes_the_tool_the_registry_lacks_and_then_calls_it():
    from langchain_core.messages import ToolMessage
    from langgraph.store.memory import InMemoryStore

    from graphs.agent import build_toolmaker_agent
    from tools_registry import ToolRegistry

    store = InMemoryStore()
    agent = build_toolmaker_agent().compile(store=store)
    state = agent.invoke({"messages": [("user", "How many seconds are there in 3 hours and 25 minutes?")]})
    [tool] = ToolRegistry(store).tools()
    results = [m for m in state["messages"] if isinstance(m, ToolMessage)]
    assert [(m.name, m.status) for m in results] == [("make_tool", "success"), (tool.name, "success")]
    assert state["answer"] == "12300"
    assert ToolRegistry(store).stats(tool.id).uses == 1  # the agent's own call, not the making's run


# Long enough that a cached prefix and a fresh one decode differently on this machine (see
# TOOLMAKER_EMBEDDED_PROMPT_CACHE): with the cache on, the first reply changes after the second.
BIRDS = (
    "Write a Python function that returns the median of a list of numbers, then call it on the numbers "
    "of birds seen: Tuesday 4, Wednesday 5, Thursday 2, Friday 2, Saturday 9, Sunday 3, Monday 3. "
) * 3
SKEW = (
    "Write a Python function that returns the median of a list of numbers, then explain in detail how "
    "medians differ from means for skewed data with examples. "
) * 3


def test_without_the_prompt_cache_a_request_gets_the_same_reply_whatever_came_before():
    from toolmaker.embedded.server import stop_embedded_servers

    stop_embedded_servers()
    settings = get_settings().model_copy(update={"embedded_prompt_cache": False})
    models = EndpointModels(settings)
    try:
        model = models(ModelRequest(role="maker", max_tokens=160))
        replies = [model.invoke([("system", "You are an expert Python programmer."), ("human", text)]).content
                   for text in (BIRDS, SKEW, BIRDS)]  # fmt: skip
    finally:
        stop_embedded_servers()  # the other tests' servers keep the default
    assert replies[0] == replies[2] and replies[0] != replies[1]
