"""``toolmaker latm`` over the real OpenAI-compatible HTTP path, against a scripted endpoint."""

import json

from cli import main
from tests.fakes import FakeOpenAIServer, fenced

SORT = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically, joined by single spaces."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
CALL = "print(sort_words(question))"
DISPATCH_TO_SORTING = '{"choice": "word_sorting", "family": "word_sorting"}'


def ask(words):
    return f"Sort the following words alphabetically: List: {words}"


def endpoints(server):
    return ["--base-url", server.base_url, "--user-base-url", server.base_url, "--json"]


MAKING = [fenced(SORT + "\n".join([CALL] * 3)), fenced("\n".join([CALL] * 3))]


def sorting_demos(tmp_path):
    demos = tmp_path / "demos.jsonl"
    lists = ("pear apple", "fig kiwi date", "b a", "zeta eta", "c b a", "y x")
    demos.write_text(
        "".join(json.dumps({"question": ask(w), "answer": " ".join(sorted(w.split()))}) + "\n" for w in lists)
    )
    return demos


def make_sorting(tmp_path):
    """``latm make`` of word sorting from six demos of our own (the scripted MAKING passes them all)."""
    return ["latm", "make", "--task", "word_sorting", "--demos", str(sorting_demos(tmp_path))]


def make_sorting_tool(tmp_path, capsys):
    with FakeOpenAIServer(MAKING) as server:
        code = main([*make_sorting(tmp_path), *endpoints(server)])
    return code, json.loads(capsys.readouterr().out)


def test_make_registers_a_verified_tool_and_solve_then_uses_it_without_the_maker(tmp_path, capsys):
    code, made = make_sorting_tool(tmp_path, capsys)
    assert code == 0 and made["status"] == "verified" and made["tool_id"].startswith("sort_words@")
    assert made["tokens"]["maker"] == {"input": 100, "output": 10, "calls": 2}
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)]) as server:
        code = main(["latm", "solve", ask("pear apple fig"), *endpoints(server)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["route"] == "cached tool" and report["answer"] == "apple fig pear"
    assert report["maker_tokens"] == 0 and report["tool_id"] == made["tool_id"]
    schema = server.requests[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["choice"]["enum"] == ["word_sorting", "none"]


def test_serve_stops_before_the_budget_is_passed_and_keeps_what_was_answered(tmp_path, capsys):
    make_sorting_tool(tmp_path, capsys)
    stream = tmp_path / "requests.txt"
    stream.write_text("\n".join(ask(w) for w in ("pear apple", "kiwi fig", "b a")) + "\n")
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)] * 3) as server:
        code = main(["latm", "serve", str(stream), "--budget", "200", *endpoints(server)])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 1 and [row["answer"] for row in rows] == ["apple pear"]
    assert "budget:" in captured.err and "stopped before request 2 of 3" in " ".join(captured.err.split())


def test_a_served_stream_stopped_by_its_budget_continues_where_it_stopped(tmp_path, capsys):
    make_sorting_tool(tmp_path, capsys)
    stream, out = tmp_path / "requests.txt", tmp_path / "served.jsonl"
    stream.write_text("\n".join(ask(w) for w in ("pear apple", "kiwi fig", "b a")) + "\n")
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)]) as server:
        assert (
            main(["latm", "serve", str(stream), "--budget", "200", "--out", str(out), *endpoints(server)])
            == 1
        )
    assert "a rerun with a larger --budget goes on from" in " ".join(capsys.readouterr().err.split())
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)] * 2) as server:
        code = main(["latm", "serve", str(stream), "--budget", "1000", "--out", str(out), *endpoints(server)])
    captured = capsys.readouterr()
    assert code == 0 and len(server.requests) == 4, "only the two unanswered requests reach the models"
    assert "1 requests already served" in captured.err
    assert "3 requests: 3 cached tool" in " ".join(captured.err.split())
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(row["index"], row["answer"]) for row in rows] == [(1, "apple pear"), (2, "fig kiwi"), (3, "a b")]


def test_serving_another_stream_into_the_same_file_is_refused_and_keeps_the_file(tmp_path, capsys):
    make_sorting_tool(tmp_path, capsys)
    out = tmp_path / "served.jsonl"
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_text(ask("pear apple") + "\n")
    second.write_text(ask("zebra ant") + "\n")
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)]) as server:
        assert main(["latm", "serve", str(first), "--out", str(out), *endpoints(server)]) == 0
    kept = out.read_text()
    with FakeOpenAIServer([]) as server:
        assert main(["latm", "serve", str(second), "--out", str(out), *endpoints(server)]) == 2
    assert "holds the answers of another stream (request 1 differs)" in " ".join(
        capsys.readouterr().err.split()
    )
    assert out.read_text() == kept and not server.requests


def test_a_request_line_without_a_request_is_named_before_any_model_is_asked(tmp_path, capsys):
    stream = tmp_path / "requests.jsonl"
    stream.write_text(json.dumps({"request": ask("b a")}) + "\n" + json.dumps({"text": "?"}) + "\n")
    with FakeOpenAIServer([]) as server:
        assert main(["latm", "serve", str(stream), *endpoints(server)]) == 2
    assert f"{stream}:2: not a request" in " ".join(capsys.readouterr().err.split()) and not server.requests


def test_make_without_demos_for_an_unknown_task_is_a_clear_error(capsys):
    assert main(["latm", "make", "--task", "my_task"]) == 2
    assert "no demos for task 'my_task': give --demos FILE.jsonl" in " ".join(capsys.readouterr().err.split())


def test_a_malformed_demo_line_is_named(tmp_path, capsys):
    demos = tmp_path / "demos.jsonl"
    demos.write_text('{"question": "q"}\n')
    assert main(["latm", "make", "--task", "mine", "--demos", str(demos)]) == 2
    assert f"{demos}:1: not a demo row" in " ".join(capsys.readouterr().err.split())


FRESH_PROCESS = """
import json
from nodes.latm.queue import RequestQueue
from toolmaker.settings import get_settings
from tools_registry import sqlite_registry

with sqlite_registry(get_settings().registry_path) as registry:
    tools = [(r.id, r.latm.family, registry.stats(r.id).uses) for r in registry.tools() if r.latm]
    print(json.dumps({"tools": tools, "queues": RequestQueue(registry.store).families()}))
"""


def test_the_cache_and_the_queue_survive_into_a_new_process_and_tools_show_the_making_cost_per_use(
    tmp_path, capsys
):
    import subprocess
    import sys

    _, made = make_sorting_tool(tmp_path, capsys)
    with FakeOpenAIServer([DISPATCH_TO_SORTING, fenced(CALL)]) as server:
        main(["latm", "solve", ask("pear apple fig"), *endpoints(server)])
    capsys.readouterr()
    days = "How many days are there in 3 weeks and 4 days?"
    creator = [fenced("def days(w: int, d: int) -> int:\n    return 7 * w + d"), fenced("print(days(3, 4))")]
    with FakeOpenAIServer(['{"choice": "none", "family": "day_counting"}', *creator]) as server:
        main(["latm", "solve", days, *endpoints(server)])
    queued = json.loads(capsys.readouterr().out)
    assert queued["route"] == "queued" and queued["answer"] == "25" and queued["maker_tokens"] == 110
    fresh = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, check=True)
    assert json.loads(fresh.stdout) == {
        "tools": [[made["tool_id"], "word_sorting", 1]],
        "queues": {"day_counting": days},
    }
    assert main(["tools", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["latm"]["verified"] == "gold" and listed["latm"]["making"]["calls"] == 2
    assert listed["latm"]["making_per_use"]["tokens"] == 110  # 2 calls of 55 tokens, over 1 use


def test_a_prompt_variant_file_is_used_for_its_node_and_unknown_nodes_are_refused(tmp_path, capsys):
    import pytest

    variant = tmp_path / "strict.md"
    variant.write_text(
        "## system\nRoute strictly.\n\n## user\nFamilies: $options\nRequest: $request\nJSON only."
    )
    with FakeOpenAIServer(
        ['{"choice": "none", "family": "none"}', fenced(SORT), fenced(f"print(sort_words({ask('b a')!r}))")]
    ) as server:
        main(["latm", "solve", ask("b a"), "--prompt-variant", f"dispatch={variant}", *endpoints(server)])
    assert json.loads(capsys.readouterr().out)["route"] == "queued"
    assert server.requests[0]["messages"][0]["content"] == "Route strictly."
    with pytest.raises(SystemExit):
        main(["latm", "solve", "x", "--prompt-variant", "create=terse"])
    assert "NODE one of propose, fix, verify" in capsys.readouterr().err


def test_a_request_whose_endpoint_failed_resumes_from_its_thread_without_asking_the_dispatch_again(
    tmp_path, capsys
):
    from tests.fakes import Fault
    from tests.unit.test_runs import toolmaker

    make_sorting_tool(tmp_path, capsys)
    offline = {"TOOLMAKER_REQUEST_RETRIES": "0"}
    with FakeOpenAIServer([DISPATCH_TO_SORTING, Fault("status", 503)]) as server:
        failed = toolmaker("latm", "solve", ask("pear apple fig"), "--thread-id", "flaky", *endpoints(server),
                           env=offline)  # fmt: skip
    assert failed.returncode == 2 and "toolmaker runs resume flaky" in " ".join(failed.stderr.split())
    assert json.loads(failed.stdout)["answer"] is None
    listed = {run["graph"]: run for run in json.loads(toolmaker("runs", "list", "--json").stdout)}
    assert (
        listed.keys() == {"latm-tool-maker", "latm-dispatcher"}
        and listed["latm-dispatcher"]["thread_id"] == "flaky"
    )
    with FakeOpenAIServer([fenced(CALL)]) as server:
        resumed = toolmaker(
            "runs", "resume", "flaky", "--user-base-url", server.base_url, "--json", env=offline
        )
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert (report["route"], report["answer"], report["maker_tokens"]) == ("cached tool", "apple fig pear", 0)
    assert len(server.requests) == 1 and "sort_words" in server.requests[0]["messages"][-1]["content"]
    again = toolmaker("latm", "solve", ask("pear apple fig"), "--thread-id", "flaky", env=offline)
    assert again.returncode == 2 and "run flaky is finished" in " ".join(again.stderr.split())


def test_a_tool_made_for_a_full_queue_waits_for_approval_and_a_new_process_approves_it():
    from tests.unit.test_runs import toolmaker

    def creator_answer(words):  # CREATOR's create and decide, while the family has no tool
        return [fenced(SORT), fenced(f"print(sort_words({ask(words)!r}))")]

    offline = {"TOOLMAKER_REQUEST_RETRIES": "0"}
    options = ("--queue-threshold", "2", "--approve-tools")
    first = [*creator_answer("pear apple")]
    with FakeOpenAIServer(['{"choice": "none", "family": "word_sorting"}', *first]) as server:
        queued = toolmaker("latm", "solve", ask("pear apple"), *options, *endpoints(server), env=offline)
    assert queued.returncode == 0, queued.stderr
    assert json.loads(queued.stdout)["route"] == "queued"
    second = [DISPATCH_TO_SORTING, *creator_answer("kiwi fig"), fenced(f"{SORT}\n{CALL}"), fenced(CALL)]
    with FakeOpenAIServer(second) as server:
        stopped = toolmaker("latm", "solve", ask("kiwi fig"), *options, "--thread-id", "full",
                            *endpoints(server), env=offline)  # fmt: skip
    assert stopped.returncode == 3, stopped.stderr
    assert json.loads(stopped.stdout)["waiting_for"]["tool"] == "sort_words"
    assert "toolmaker runs resume full" in " ".join(stopped.stderr.split())
    assert json.loads(toolmaker("tools", "list", "--json").stdout) == []
    with FakeOpenAIServer([fenced(CALL), fenced(CALL)]) as server:
        approved = toolmaker("runs", "resume", "full", "--approve", "--base-url", server.base_url,
                             "--user-base-url", server.base_url, "--json", env=offline)  # fmt: skip
    assert approved.returncode == 0, approved.stderr
    report = json.loads(approved.stdout)
    assert report["route"] == "made now" and [w["answer"] for w in report["waiters"]] == [
        "apple pear",
        "fig kiwi",
    ]
    assert len(server.requests) == 2, "the maker was not asked again: its steps were kept"
    tools = json.loads(toolmaker("tools", "list", "--json").stdout)
    assert [(t["name"], t["provenance"]["approval"]) for t in tools] == [("sort_words", "approve")]


def test_latm_make_with_approve_tools_waits_and_a_rejection_in_a_new_process_registers_nothing(tmp_path):
    from tests.unit.test_runs import toolmaker

    make = (*make_sorting(tmp_path), "--approve-tools")
    with FakeOpenAIServer(MAKING) as server:
        stopped = toolmaker(*make, "--thread-id", "mk", *endpoints(server))
    assert stopped.returncode == 3, stopped.stderr
    waiting = json.loads(stopped.stdout)["waiting_for"]
    assert waiting["tool"] == "sort_words" and len(waiting["verification"]) == 6
    rejected = toolmaker("runs", "resume", "mk", "--no-approve", "--reason", "not ours", "--json")
    assert rejected.returncode == 1, rejected.stderr
    report = json.loads(rejected.stdout)
    assert report["approval"] == {"decision": "reject", "reason": "not ours"} and report["tool_id"] is None
    assert json.loads(toolmaker("tools", "list", "--json").stdout) == []
    with FakeOpenAIServer(MAKING) as server:
        approved = toolmaker(*make, "--approve", *endpoints(server))
    assert approved.returncode == 0 and json.loads(approved.stdout)["tool_id"].startswith("sort_words@")
