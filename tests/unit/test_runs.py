"""Checkpointed command-line runs: a run killed mid-graph resumes without repeating its finished steps."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes import FakeOpenAIServer, Fault, fenced

REPO = Path(__file__).resolve().parents[2]
PROBLEM = "What is 17 * 23 + 5?"
CREATE = fenced(
    'def multiply_add(a: int, b: int, c: int) -> int:\n    """a * b + c."""\n    return a * b + c\n'
)
DECIDE = fenced("print(multiply_add(17, 23, 5))")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli", *args]


def toolmaker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, **(env or {})})  # fmt: skip


def kill_at_decide(*args: str) -> None:
    """Run ``toolmaker ARGS`` and SIGKILL it while it waits for its second call (decide) to answer."""
    with FakeOpenAIServer([CREATE, Fault("hang", seconds=5)]) as server:
        killed = subprocess.Popen(command(*args, "--base-url", server.base_url), cwd=REPO,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 60
        while len(server.requests) < 2 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.05)
        assert len(server.requests) == 2, "the run reached decide's call"
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)


def test_a_run_killed_mid_graph_resumes_from_its_last_step_and_answers_as_an_uninterrupted_one():
    with FakeOpenAIServer([CREATE, DECIDE]) as server:
        whole = toolmaker("solve", PROBLEM, "--base-url", server.base_url, "--json", "--thread-id", "whole")
    assert whole.returncode == 0, whole.stderr
    expected = json.loads(whole.stdout)

    kill_at_decide("solve", PROBLEM, "--thread-id", "cut")

    listed = json.loads(toolmaker("runs", "list", "--json").stdout)
    assert {row["thread_id"]: row["status"] for row in listed} == {"whole": "solved", "cut": "running"}
    with FakeOpenAIServer([DECIDE]) as server:
        resumed = toolmaker("runs", "resume", "cut", "--base-url", server.base_url, "--json")
    assert resumed.returncode == 0, resumed.stderr
    assert len(server.requests) == 1 and "multiply_add" in server.requests[0]["messages"][-1]["content"]
    report = json.loads(resumed.stdout)
    assert (report["answer"], report["status"], report["tool"]) == (
        expected["answer"],
        expected["status"],
        expected["tool"],
    )
    assert report["answer"] == "396"

    again = toolmaker("runs", "resume", "cut")
    assert again.returncode == 2 and "run cut is finished" in " ".join(again.stderr.split())


def test_solve_with_the_id_of_an_unfinished_run_resumes_it_and_runs_show_gives_its_state():
    with FakeOpenAIServer([CREATE, Fault("status", 503), Fault("status", 503)]) as server:
        failed = toolmaker("solve", PROBLEM, "--base-url", server.base_url, "--thread-id", "flaky",
                           env={"TOOLMAKER_REQUEST_RETRIES": "1"})  # fmt: skip
    assert failed.returncode == 2 and "toolmaker runs resume flaky" in " ".join(failed.stderr.split())
    with FakeOpenAIServer([DECIDE]) as server:
        resumed = toolmaker("solve", PROBLEM, "--base-url", server.base_url, "--thread-id", "flaky", "--json")
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["answer"] == "396"
    assert "did not finish: resuming it" in resumed.stderr and len(server.requests) == 1
    shown = json.loads(toolmaker("runs", "show", "flaky").stdout)
    assert shown["values"]["answer"] == "396" and shown["graph"] == "creator"


def test_runs_and_tools_live_on_postgres_when_a_database_url_is_set(postgres_url):
    on_postgres = {"TOOLMAKER_DATABASE_URL": postgres_url, "TOOLMAKER_REQUEST_RETRIES": "0"}
    with FakeOpenAIServer([CREATE, Fault("status", 503)]) as server:
        failed = toolmaker(
            "solve", PROBLEM, "--base-url", server.base_url, "--thread-id", "pg", env=on_postgres
        )
    assert failed.returncode == 2
    with FakeOpenAIServer([DECIDE]) as server:
        resumed = toolmaker("runs", "resume", "pg", "--base-url", server.base_url, "--json", env=on_postgres)
    assert resumed.returncode == 0 and json.loads(resumed.stdout)["answer"] == "396"
    assert len(server.requests) == 1  # the create step was kept on the server
    listed = json.loads(toolmaker("runs", "list", "--json", env=on_postgres).stdout)
    tools = json.loads(toolmaker("tools", "list", "--json", env=on_postgres).stdout)
    assert [run["thread_id"] for run in listed] == ["pg"] and [t["name"] for t in tools] == ["multiply_add"]
    data = Path(os.environ["TOOLMAKER_DATA_DIR"])
    assert not (data / "runs.sqlite").exists() and not (data / "tools.sqlite").exists()


def test_a_bench_item_killed_mid_graph_goes_on_from_its_last_step_when_the_bench_runs_again(tmp_path):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "p1", "question": PROBLEM, "answer": "396"}) + "\n")
    rows = tmp_path / "rows.jsonl"
    bench = ("bench", "--dataset", str(items), "--method", "creator-general", "--out", str(rows))
    kill_at_decide(*bench)
    assert not rows.exists() or rows.read_text() == ""
    listed = json.loads(toolmaker("runs", "list", "--json").stdout)
    assert [run["graph"] for run in listed] == ["bench:creator-general"]
    refused = toolmaker("runs", "resume", listed[0]["thread_id"])
    assert refused.returncode == 2 and "benchmark item" in refused.stderr
    with FakeOpenAIServer([DECIDE]) as server:
        again = toolmaker(*bench, "--base-url", server.base_url)
    assert again.returncode == 0, again.stderr
    assert len(server.requests) == 1  # create was not asked again
    [row] = [json.loads(line) for line in rows.read_text().splitlines()]
    assert row["correct"] and row["tokens"]["maker"]["calls"] == 2
    assert json.loads(toolmaker("runs", "list", "--json").stdout) == []  # its thread went with its row
