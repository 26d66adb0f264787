"""Endpoint faults, each injected by a real HTTP server on 127.0.0.1: retried within bounds, then named."""

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from langchain_core.messages import HumanMessage

from benchmarks.processes import free_port
from evaluation import runner
from evaluation.datasets import Item
from evaluation.rows import BenchError, read_rows
from graphs.creator import build_creator_graph
from graphs.running import solve
from nodes import CreatorContext
from nodes.common.grading import grade_numeric
from sandbox import SubprocessExecutor
from tests.fakes import FakeOpenAIServer, Fault, fenced
from toolmaker.models import EndpointModels, ModelRequest
from toolmaker.settings import EndpointSettings, Settings

TRANSIENT = {
    "500": Fault("status", 500),
    "502": Fault("status", 502),
    "503": Fault("status", 503),
    "read timeout": Fault("hang", seconds=3),
    "a body cut off half-way": Fault("cut"),
    "malformed JSON": Fault("malformed"),
    "no choices": Fault("no_choices"),
}
NAMED = {
    "500": "answered 500",
    "502": "answered 502",
    "503": "answered 503",
    "read timeout": "did not answer in time",
    "a body cut off half-way": "cannot reach the model endpoint",
    "malformed JSON": "body is not JSON",
    "no choices": "a 200 completion without choices",
}


def models_for(base_url: str, retries: int = 2) -> EndpointModels:
    endpoint = EndpointSettings(model="scripted", base_url=base_url)
    settings = Settings(maker=endpoint, user=endpoint, request_retries=retries, request_timeout_s=1.0,
                        connect_timeout_s=1.0)  # fmt: skip
    return EndpointModels(settings)


def creator_on(base_url: str):
    return build_creator_graph(models=models_for(base_url), executor=SubprocessExecutor()).compile()


def ask(models: EndpointModels) -> str:
    return str(models(ModelRequest(role="maker")).invoke([HumanMessage("hi")]).content)


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_transient_fault_is_retried_and_the_call_succeeds(fault):
    with FakeOpenAIServer([TRANSIENT[fault], "ok"]) as server:
        assert ask(models_for(server.base_url)) == "ok"
    assert len(server.requests) == 2


def test_a_429_is_retried_after_the_time_its_retry_after_header_asks_for():
    with FakeOpenAIServer([Fault("status", 429, headers=(("Retry-After", "2"),)), "ok"]) as server:
        started = time.monotonic()
        assert ask(models_for(server.base_url)) == "ok"
        waited = time.monotonic() - started
    assert len(server.requests) == 2 and waited >= 1.9


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_lasting_fault_stops_the_run_after_the_retries_with_an_error_naming_endpoint_and_fault(fault):
    with FakeOpenAIServer([TRANSIENT[fault]] * 3) as server:
        graph = build_creator_graph(
            models=models_for(server.base_url), executor=SubprocessExecutor()
        ).compile()
        report = solve(graph, {"problem": "What is 2 + 3?"}, CreatorContext())
    assert len(server.requests) == 3, "one call and two retries, no more"
    assert report["status"] == "failed" and report["answer"] is None
    assert server.base_url in report["error"] and NAMED[fault] in report["error"]


@contextmanager
def unanswered_port() -> Iterator[int]:
    """A port whose listen backlog is full, so a connection attempt is never answered."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.parametrize("fault", ["connection refused", "connect timeout"])
def test_an_endpoint_that_cannot_be_reached_is_named_after_the_retries(fault):
    if fault == "connection refused":
        url = f"http://127.0.0.1:{free_port()}/v1"
        report = solve(creator_on(url), {"problem": "What is 2 + 3?"}, CreatorContext())
        assert f"cannot reach the model endpoint {url}" in report["error"]
    else:
        with unanswered_port() as port:
            url = f"http://127.0.0.1:{port}/v1"
            report = solve(creator_on(url), {"problem": "What is 2 + 3?"}, CreatorContext())
        assert f"the model endpoint {url}" in report["error"] and "did not answer in time" in report["error"]
    assert report["status"] == "failed"


TOOL = '''
def add(a: int, b: int) -> int:
    """The sum of a and b."""
    return a + b
'''
ITEMS = [
    Item(id=f"sums/{n}", question=f"What is {n} + 1?", answer=str(n + 1), table="", level="", meta={})
    for n in (3, 4, 5)
]


def test_a_batch_keeps_its_finished_rows_writes_nothing_for_the_failed_item_and_a_rerun_does_only_the_rest(
    tmp_path, monkeypatch
):
    monkeypatch.setitem(runner.DATASETS, "sums", (lambda: ITEMS, grade_numeric))
    out = tmp_path / "sums.jsonl"

    def graph(server):
        return build_creator_graph(
            models=models_for(server.base_url), executor=SubprocessExecutor()
        ).compile()

    def solved(n):
        return [fenced(TOOL), fenced(f"print(add({n}, 1))")]

    with FakeOpenAIServer([*solved(3), *[Fault("status", 503)] * 3]) as server:
        with pytest.raises(BenchError, match=rf"sums/4: the model endpoint {server.base_url}.* answered 503"):
            runner.run_bench("sums", "creator", out, graph=creator_on(server.base_url))
    assert [row["id"] for row in read_rows(out)] == ["sums/3"]
    with FakeOpenAIServer([*solved(4), *solved(5)]) as server:
        rows = runner.run_bench("sums", "creator", out, graph=creator_on(server.base_url))
    assert [row["id"] for row in rows] == ["sums/4", "sums/5"] and all(row["correct"] for row in rows)
    assert len(server.requests) == 4 and len(read_rows(out)) == 3
