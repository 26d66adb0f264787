"""Every graph served by ``langgraph dev`` itself (what Studio talks to), run over its HTTP API."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from benchmarks.processes import free_port
from prompts import PROMPTS_DIR, prompt_label

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
# A create variant that lives only in an assistant's context: the default, with one more rule.
CREATE_TEXT = (
    (PROMPTS_DIR / "create" / "default.md")
    .read_text(encoding="utf-8")
    .replace("## user\n", "## user\nKeep the tool's docstring to one line.\n", 1)
)


@pytest.fixture
def dev_server(tmp_path):
    """``langgraph dev`` on a free loopback port, its state under ``tmp_path``; stopped by its PID."""
    if not LANGGRAPH.is_file():
        pytest.skip("needs langgraph-cli[inmem] (the dev extra: pip install -e '.[dev]')")
    port = free_port()
    # The project's own config, its graph paths made absolute: langgraph dev reads them from
    # its working folder, and keeps its state (.langgraph_api) there, here a fresh one.
    config = json.loads((REPO / "langgraph.json").read_text())
    config["graphs"] = {name: str(REPO / path) for name, path in config["graphs"].items()}
    config["dependencies"] = [str(REPO)]
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    log = (tmp_path / "langgraph-dev.log").open("w")
    server = subprocess.Popen(
        [str(LANGGRAPH), "dev", "--config", str(tmp_path / "langgraph.json"), "--host", "127.0.0.1",
         "--port", str(port), "--no-browser", "--no-reload"],
        cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                pytest.fail(f"langgraph dev exited: {(tmp_path / 'langgraph-dev.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("langgraph dev did not answer /ok within 180 s")
            time.sleep(1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        log.close()
    assert group_ends(server.pid, within_s=60), "a process of langgraph dev's group outlived it"


def group_ends(group: int, within_s: float) -> bool:
    """Whether every process of ``group`` (the server and the embedded model it started) exits in time."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.5)
    os.killpg(group, signal.SIGKILL)
    return False


def test_langgraph_dev_serves_every_graph_and_runs_creator_with_a_prompt_text_from_an_assistant(dev_server):
    client = httpx.Client(base_url=dev_server, timeout=900)
    graphs = set(json.loads((REPO / "langgraph.json").read_text())["graphs"])
    assistants = client.post("/assistants/search", json={"limit": 100}).json()
    assert {assistant["graph_id"] for assistant in assistants} == graphs

    created = client.post(
        "/assistants",
        json={
            "graph_id": "creator",
            "name": "one-line docstrings, tools approved by a person",
            "context": {"create_prompt": CREATE_TEXT, "approve_tools": True},
        },
    )
    assert created.status_code == 200, created.text
    assistant = created.json()["assistant_id"]
    thread = client.post("/threads", json={}).json()["thread_id"]
    problem = {"problem": "What is 17 * 23 + 5?"}
    stopped = client.post(f"/threads/{thread}/runs/wait", json={"assistant_id": assistant, "input": problem})
    assert stopped.status_code == 200, stopped.text
    # What Studio shows: the thread waits in register, with the new tool for a person to judge.
    waiting = client.get(f"/threads/{thread}/state").json()
    assert waiting["next"] == ["register"], waiting.get("values", {}).get("attempts")
    (shown,) = [interrupt["value"] for task in waiting["tasks"] for interrupt in task["interrupts"]]
    assert shown["kind"] == "tool approval" and "def " in shown["code"]
    nothing = client.post(
        "/store/items/search", json={"namespace_prefix": ["toolmaker", "tools"], "limit": 100}
    )
    assert nothing.json()["items"] == []

    run = client.post(
        f"/threads/{thread}/runs/wait",
        json={"assistant_id": assistant, "command": {"resume": {"decision": "approve"}}},
    )
    assert run.status_code == 200, run.text
    state = run.json()
    assert state["status"] == "solved" and state["answer"] == "396", state.get("attempts")

    found = client.post(
        "/store/items/search", json={"namespace_prefix": ["toolmaker", "tools"], "limit": 100}
    )
    records = [item["value"] for item in found.json()["items"]]
    assert state["tool_id"] in {record["id"] for record in records}
    (record,) = [record for record in records if record["id"] == state["tool_id"]]
    assert record["provenance"]["prompt_variant"] == prompt_label(CREATE_TEXT)
    assert record["provenance"]["approval"] == "approve"
