import json

import pytest

from benchmarks.processes import free_port
from cli import main
from sandbox import get_executor
from tests.fakes import FakeOpenAIServer, fenced

TOOL = '''
def digit_sum(n: int) -> int:
    """Sum of the decimal digits of n."""
    return sum(int(d) for d in str(n))
'''


def test_solve_json_over_an_openai_compatible_endpoint(capsys, tmp_path):
    table = tmp_path / "table.txt"
    table.write_text("x | y\n1 | 2")
    with FakeOpenAIServer([fenced(TOOL), fenced("print(digit_sum(2 ** 100))")]) as server:
        code = main(
            [
                "solve",
                "What is the sum of the digits of 2**100?",
                "--json",
                "--table",
                str(table),
                "--model",
                "my-model",
                "--base-url",
                server.base_url,
            ]
        )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"answer", "status", "rounds", "tool", "call", "attempts", "tokens", "seconds"} <= set(report)
    assert report["answer"] == "115" and report["status"] == "solved" and report["rounds"] == 0
    assert report["tool"]["code"].startswith("def digit_sum(n: int) -> int:")
    assert report["tokens"]["maker"] == {"input": 100, "output": 10, "calls": 2}
    first = server.requests[0]
    assert first["model"] == "my-model" and first["temperature"] == 0 and first["seed"] == 0
    assert "1 | 2" in first["messages"][-1]["content"]


@pytest.mark.parametrize("node", ["create=", ""])
def test_a_prompt_given_as_text_may_hold_equals_signs_with_or_without_its_node(capsys, node):
    text = "## system\nWrite tools where y = f(x).\n## user\n$problem, please"
    with FakeOpenAIServer([fenced(TOOL), fenced("print(digit_sum(99))")]) as server:
        code = main(["solve", "Digit sum of 99?", "--prompt-variant", node + text, "--json",
                     "--model", "m", "--base-url", server.base_url])  # fmt: skip
    assert code == 0 and json.loads(capsys.readouterr().out)["answer"] == "18"
    assert server.requests[0]["messages"][0]["content"] == "Write tools where y = f(x)."


def test_solve_one_value_sends_a_printed_pair_back_to_rectify(capsys):
    spread = 'def spread(v: list) -> tuple:\n    """Least and greatest."""\n    return min(v), max(v)\n'
    replies = [
        fenced(spread),
        fenced("print(spread([2, 8]))"),
        fenced("low, high = spread([2, 8])\nprint(high - low)"),
    ]
    with FakeOpenAIServer(replies) as server:
        code = main(["solve", "What is the range of 2 and 8?", "--one-value", "--no-general-tools", "--json",
                     "--model", "m", "--base-url", server.base_url])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["answer"] == "6" and report["rounds"] == 1


def test_dead_endpoint_is_a_clear_error_that_keeps_the_report(capsys):
    port = free_port()
    code = main(["solve", "1+1?", "--json", "--model", "m", "--base-url", f"http://127.0.0.1:{port}/v1"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 2
    assert report["status"] == "failed"
    assert report["error"].startswith(
        f"cannot reach the model endpoint http://127.0.0.1:{port}/v1/chat/completions"
    )
    assert "error:" in captured.err


def test_human_output_shows_tool_call_answer_and_rounds(capsys):
    with FakeOpenAIServer([fenced(TOOL), fenced("print(digit_sum(99))")]) as server:
        code = main(["solve", "Digit sum of 99?", "--model", "m", "--base-url", server.base_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "def digit_sum" in out and "print(digit_sum(99))" in out
    assert "answer: 18" in out and "rounds: 0" in out


def test_solve_with_agreement_and_worked_examples_says_how_the_candidates_voted(capsys):
    same_answer = [
        fenced("print(digit_sum(99))"),
        fenced("print(digit_sum(99))"),
        fenced("print(digit_sum(9 * 11))"),
    ]
    with FakeOpenAIServer([fenced(TOOL), *same_answer]) as server:
        options = [
            "--agree",
            "3",
            "--agree-sampling",
            "calls",
            "--prompt-variant",
            "decide=demos",
            "--no-register",
        ]
        code = main(["solve", "Digit sum of 99?", *options, "--model", "m", "--base-url", server.base_url])
    captured = capsys.readouterr()
    assert code == 0 and "answer: 18" in captured.out
    assert "the 3 candidates voted (18, 18, 18): 18 stands" in " ".join(captured.err.split())
    # create once at temperature 0; decide greedily, then twice sampled, each with the worked examples
    assert [request["temperature"] for request in server.requests] == [0, 0, 0.7, 0.7]
    assert all("Three worked examples" in r["messages"][-1]["content"] for r in server.requests[1:])
    assert "worked examples" not in server.requests[0]["messages"][-1]["content"]


def test_solve_says_when_split_candidates_leave_the_first_answer_for_want_of_a_round(capsys):
    split = [fenced("print(digit_sum(99))"), fenced("print(digit_sum(98))"), fenced("print(digit_sum(97))")]
    with FakeOpenAIServer([fenced(TOOL), *split]) as server:
        options = ["--agree", "3", "--agree-sampling", "calls", "--max-rounds", "0", "--no-register"]
        code = main(["solve", "Digit sum of 99?", *options, "--model", "m", "--base-url", server.base_url])
    captured = capsys.readouterr()
    err = " ".join(captured.err.split())
    assert code == 0 and "answer: 18" in captured.out
    assert (
        "the 3 candidates disagree (18, 17, 16); no round left to judge them: the first answer stands" in err
    )
    with pytest.raises(SystemExit) as refused:
        main(["solve", "Digit sum of 99?", "--agree", "0"])
    assert refused.value.code == 2 and "at least 1, not '0'" in capsys.readouterr().err


def test_solve_names_the_round_that_asks_for_a_general_version_as_such(capsys):
    fixed = "def expression_value() -> int:\n    return 17 * 23 + 5"
    general = "def multiply_add(a: int, b: int, c: int) -> int:\n    return a * b + c"
    replies = [
        fenced(fixed),
        fenced("print(expression_value())"),
        fenced(general) + fenced("print(multiply_add(17, 23, 5))"),
    ]
    with FakeOpenAIServer(replies) as server:
        code = main(
            ["solve", "What is 17 * 23 + 5?", "--no-register", "--model", "m", "--base-url", server.base_url]
        )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0 and "asking for a general version" in err
    assert "general-version round 1: changed both" in err and "rectify round" not in err


def test_graph_command_prints_the_mermaid_topology(capsys):
    assert main(["graph"]) == 0
    assert "execute -.-> rectify;" in capsys.readouterr().out


def test_exec_runs_a_file_in_the_sandbox_and_prints_json(capsys, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("import os\nprint(6 * 7)\nprint(os.environ.get('HOME'))")
    assert main(["exec", str(script), "--json", "--timeout", "3", "--memory-mb", "256"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"status", "stdout", "stderr", "error", "backend", "seconds", "confinement"} <= set(result)
    assert result["status"] == "ok" and result["stdout"].splitlines()[0] == "42"
    assert result["backend"] == get_executor("auto").name and str(tmp_path) not in result["stdout"]


def test_every_sandbox_user_runs_the_backend_settings_name(capsys, tmp_path, monkeypatch):
    from langgraph.store.memory import InMemoryStore

    from cli.mcp_server import ToolServer
    from graphs.defaults import default_executor
    from sandbox import BackendUnavailable
    from sandbox.repl import SandboxedPythonREPL
    from toolmaker.settings import get_settings
    from tools_registry import ToolRegistry
    from tools_registry.langchain_tools import as_langchain_tools, tool_library

    script = tmp_path / "script.py"
    script.write_text("print(6 * 7)")
    monkeypatch.setenv("TOOLMAKER_SANDBOX", "subprocess-unconfined")
    get_settings.cache_clear()
    assert main(["exec", str(script), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["confinement"] == []  # no Landlock, no seccomp
    assert main(["exec", str(script), "--json", "--backend", "nope"]) == 2  # the option wins

    monkeypatch.setenv("TOOLMAKER_SANDBOX", "nope")
    get_settings.cache_clear()
    assert main(["exec", str(script)]) == 2
    assert "TOOLMAKER_SANDBOX=nope" in capsys.readouterr().err
    registry = ToolRegistry(InMemoryStore())
    for use_the_sandbox in (
        lambda: default_executor(None),
        lambda: as_langchain_tools(registry),
        lambda: tool_library(registry),
        lambda: ToolServer(registry),
        lambda: SandboxedPythonREPL().run("print(1)"),
    ):
        with pytest.raises(BackendUnavailable, match="TOOLMAKER_SANDBOX=nope: no sandbox backend 'nope'"):
            use_the_sandbox()


def test_exec_reports_limits_and_unknown_backends(capsys, tmp_path):
    script = tmp_path / "loop.py"
    script.write_text("while True:\n    pass")
    assert main(["exec", str(script), "--json", "--timeout", "1"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "timeout"
    assert main(["exec", str(script), "--backend", "nope"]) == 2
    assert "no sandbox backend 'nope'; available: auto, bubblewrap, subprocess" in capsys.readouterr().err


def test_solved_tool_is_registered_and_managed_with_the_tools_commands(capsys, tmp_path):
    with FakeOpenAIServer([fenced(TOOL), fenced("print(digit_sum(2 ** 100))")]) as server:
        assert (
            main(["solve", "Digit sum of 2**100?", "--json", "--model", "m", "--base-url", server.base_url])
            == 0
        )
    report = json.loads(capsys.readouterr().out)
    assert report["tool_id"].startswith("digit_sum@")

    assert main(["tools", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["id"] == report["tool_id"] and row["provenance"]["problem"] == "Digit sum of 2**100?"
    assert row["provenance"]["model"] == "m" and row["stats"]["created"] == 1

    assert main(["tools", "search", "sum of digits", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["score"] > 0

    assert main(["tools", "show", "digit_sum", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["demos"][0]["output"] == "115"

    exported = tmp_path / "digit_sum.py"
    assert main(["tools", "export", "digit_sum", "-o", str(exported)]) == 0
    assert exported.read_text().startswith("def digit_sum(n: int) -> int:")

    assert main(["tools", "remove", "digit_sum"]) == 0
    assert main(["tools", "show", "digit_sum"]) == 2
    assert "no registered tool 'digit_sum'" in capsys.readouterr().err


def test_reuse_flag_uses_the_registered_tool(capsys):
    with FakeOpenAIServer([fenced(TOOL), fenced("print(digit_sum(2 ** 100))")]) as server:
        main(
            ["solve", "Sum of the digits of 2**100?", "--json", "--model", "m", "--base-url", server.base_url]
        )
    capsys.readouterr()
    with FakeOpenAIServer([fenced("print(digit_sum(3 ** 50))")]) as server:
        code = main(
            [
                "solve",
                "Sum of the digits of 3**50?",
                "--json",
                "--reuse",
                "--model",
                "m",
                "--base-url",
                server.base_url,
            ]
        )
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["reused_tool_id"].startswith("digit_sum@") and len(server.requests) == 1


def test_unreadable_table_file_is_a_clear_error(capsys, tmp_path):
    assert (
        main(
            [
                "solve",
                "q",
                "--table",
                str(tmp_path / "missing.txt"),
                "--model",
                "m",
                "--base-url",
                "http://x/v1",
            ]
        )
        == 2
    )
    assert "cannot read the table file" in capsys.readouterr().err


def test_bench_takes_prompt_variants_per_node_and_never_mixes_them_in_one_file(capsys, tmp_path, monkeypatch):
    from evaluation import runner
    from evaluation.datasets import Item
    from nodes.common.grading import grade_numeric

    item = Item(id="tiny/0", question="How much more is 17 than 15?", answer="2", table="", level="", meta={})
    monkeypatch.setitem(runner.DATASETS, "tiny", (lambda: [item], grade_numeric))
    variant = tmp_path / "shout.md"
    variant.write_text("## system\nYou write Python.\n\n## user\nPROGRAM THIS: $problem$table")
    out = tmp_path / "rows.jsonl"
    with FakeOpenAIServer([fenced("print(17 - 15)")]) as server:
        options = ["--model", "m", "--base-url", server.base_url, "--out", str(out)]
        code = main(
            [
                "bench",
                "--dataset",
                "tiny",
                "--method",
                "pot",
                *options,
                "--prompt-variant",
                f"program={variant}",
            ]
        )
        assert code == 0 and server.requests[0]["messages"][-1]["content"].startswith(
            "PROGRAM THIS: How much"
        )
        (row,) = [json.loads(line) for line in out.read_text().splitlines()]
        assert row["correct"] and row["prompts"] == {"program": str(variant)}
        assert main(["bench", "--dataset", "tiny", "--method", "pot", *options]) == 2
    assert "other prompt variants" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["bench", "--dataset", "tiny", "--prompt-variant", "nonode=x"])


def test_bench_on_a_jsonl_file_of_ones_own_items(capsys, tmp_path, monkeypatch):
    items = tmp_path / "shop.jsonl"
    table = "item | price\npen | $1.50\nnotebook | $4.00"
    questions = [("How much do 2 pens cost?", 3), ("Which item costs more?", "Notebook")]
    items.write_text(
        "".join(json.dumps({"question": q, "table": table, "answer": a}) + "\n" for q, a in questions)
    )
    monkeypatch.chdir(tmp_path)
    with FakeOpenAIServer([fenced("print(2 * 1.50)"), fenced("print('notebook')")]) as server:
        options = ["--method", "pot", "--model", "m", "--base-url", server.base_url]
        assert main(["bench", "--dataset", str(items), *options]) == 0
    assert "pen | $1.50" in server.requests[0]["messages"][-1]["content"]
    out = tmp_path / "results" / "pot-shop.jsonl"  # named after the file, as a dataset after its name
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(row["id"], row["dataset"], row["prediction"], row["correct"]) for row in rows] == [
        ("shop/1", str(items), "3.0", True),
        ("shop/2", str(items), "notebook", True),
    ]
    assert "2/2 new items correct" in capsys.readouterr().err
    assert main(["report", str(out)]) == 0 and "| pot | 100.0% (2) |" in capsys.readouterr().out


def test_report_puts_two_runs_of_one_method_side_by_side_with_a_paired_test(capsys, tmp_path, monkeypatch):
    items = tmp_path / "sums.jsonl"
    items.write_text(
        "".join(json.dumps({"question": f"What is {k} + {k}?", "answer": 2 * k}) + "\n" for k in (1, 2))
    )
    monkeypatch.chdir(tmp_path)
    runs = {"right": ["print(2)", "print(4)"], "wrong": ["print(2)", "print(5)"]}
    for name, programs in runs.items():
        with FakeOpenAIServer([fenced(p) for p in programs]) as server:
            options = [
                "--method",
                "pot",
                "--out",
                f"{name}.jsonl",
                "--model",
                "m",
                "--base-url",
                server.base_url,
            ]
            assert main(["bench", "--dataset", str(items), *options]) == 0
    capsys.readouterr()
    assert main(["report", "a=right.jsonl", "b=wrong.jsonl", "--compare", "a", "b"]) == 0
    out = capsys.readouterr().out
    assert "| a | 100.0% (2) |" in out and "| b | 50.0% (2) |" in out
    assert f"| a | b | {items} | 2 | 1 | 0 | 1.000 |" in out
    assert main(["report", "right.jsonl", "--compare", "pot", "b"]) == 2
    assert "--compare names no column ['b']" in capsys.readouterr().err
    assert main(["report", "c=absent.jsonl"]) == 2
    assert "no results file absent.jsonl" in capsys.readouterr().err
    assert main(["report", "right.jsonl", "wrong.jsonl"]) == 2  # one column, two rows per item
    assert "both give column 'pot' item sums/1" in capsys.readouterr().err
    assert main(["report", "=right.jsonl"]) == 2 and "empty label" in capsys.readouterr().err
    assert main(["report", "a=right.jsonl", "--compare", "a", "a"]) == 2
    assert "against itself" in capsys.readouterr().err
    (tmp_path / "k=1.jsonl").write_text((tmp_path / "wrong.jsonl").read_text())
    assert main(["report", "k=1.jsonl"]) == 0  # a file that exists, not the label k
    assert "| pot | 50.0% (2) |" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("dataset", "error"),
    [("absent.jsonl", "no items file absent.jsonl"), ("tabmwp2", "no dataset 'tabmwp2': one of math, ")],
)
def test_bench_refuses_a_dataset_that_is_neither_a_name_nor_an_items_file(
    capsys, tmp_path, monkeypatch, dataset, error
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["bench", "--dataset", dataset])
    assert f"argument --dataset: {error}" in capsys.readouterr().err


def test_bench_names_the_malformed_line_of_an_items_file(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(
        "COLUMNS", "1000"
    )  # rich would wrap the message where the temporary path's length says
    items = tmp_path / "own.jsonl"
    items.write_text('{"question": "How much?", "answer": 2}\n{"question": "And now?"}\n')
    dead = ["--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--out", str(tmp_path / "rows.jsonl")]
    assert main(["bench", "--dataset", str(items), *dead]) == 2
    err = capsys.readouterr().err
    assert f"{items}, line 2: answer must be text or a number" in err
    assert not (tmp_path / "rows.jsonl").exists()


@pytest.mark.parametrize(
    "choice, node, variant",
    [
        ("demos", "", "demos"),
        ("decide=demos", "decide", "demos"),
        ("=demos", "", "demos"),
        ("C:\\prompts\\a=b.md", "", "C:\\prompts\\a=b.md"),
        ("create=C:\\a=b.md", "create", "C:\\a=b.md"),
        ("propose=## system\nx=1\n## user\n$task", "propose", "## system\nx=1\n## user\n$task"),
        ("x=1\n## system\ns\n## user\n$problem", "", "x=1\n## system\ns\n## user\n$problem"),
    ],
)
def test_a_prompt_choice_splits_at_the_first_equals_sign_after_a_nodes_name(choice, node, variant):
    from cli.prompting import split_choice

    assert split_choice(choice) == (node, variant)


@pytest.mark.parametrize(
    "choice, complaint",
    [
        ("decdie=demos", "no node 'decdie'"),
        ("v2=terse.md", "goes after its node"),
        ("create=", "names no variant"),
    ],
)
def test_a_prompt_choice_naming_no_node_or_no_variant_is_refused(choice, complaint):
    import argparse

    from cli.prompting import prompt_choice

    with pytest.raises(argparse.ArgumentTypeError, match=complaint):
        prompt_choice(choice)
