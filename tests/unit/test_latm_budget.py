"""``toolmaker experiment latm --budget``: it stops before passing the budget, and a larger one goes on."""

import json

import pytest

from cli import main
from tests.fakes import FakeOpenAIServer, fenced
from toolmaker.settings import get_settings

SORT = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically, joined by single spaces."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
CALL = "print(sort_words(question))"


def reply(body):
    """The maker proposes a tool that passes LATM's 3 + 3 demos; the user calls it; CoT answers."""
    text = json.dumps(body)
    if "Here are examples" in text:
        return fenced(SORT + "\n".join([CALL] * 3))
    if "You have this tool" in text:
        return fenced(CALL)
    if "careful problem solver" in text:
        return "Answer: a b"
    return fenced("\n".join([CALL] * 3))


def run(tmp_path, monkeypatch, budget):
    with FakeOpenAIServer(reply) as server:
        for role in ("MAKER", "USER"):
            monkeypatch.setenv(f"TOOLMAKER_{role}_MODEL", "scripted")
            monkeypatch.setenv(f"TOOLMAKER_{role}_BASE_URL", server.base_url)
        get_settings.cache_clear()
        options = ["--task", "word_sorting", "--n", "2", "--step", "2", "--budget", budget]
        code = main(["experiment", "latm", "--out-dir", str(tmp_path), *options])
    return code, server.requests


@pytest.mark.datasets
def test_the_latm_experiment_stops_before_its_budget_and_a_larger_one_goes_on_without_making_again(
    tmp_path, monkeypatch, capsys
):
    # The scripted endpoint bills 55 tokens a call: 4 makings of 2 calls (440), then per role CoT on
    # 2 items and each of the 4 tools on 2 items. 750 holds the user's CoT and first tool (660 in all),
    # but not one more item like the costliest so far (a making's 110).
    code, _ = run(tmp_path, monkeypatch, "750")
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "stopped before item" in err and "of latm-user" in err and "(660 tokens" in err

    def rows(pattern):
        return [json.loads(line) for path in sorted(tmp_path.glob(pattern)) for line in path.open()]

    assert len(rows("making-*.jsonl")) == 4 and len(rows("user-cot-*.jsonl")) == 2
    assert len(rows("latm-user-*.jsonl")) == 2 and not rows("maker-cot-*.jsonl")
    assert {row["prompt_cache"] for row in rows("making-*.jsonl") + rows("latm-user-*.jsonl")} == {None}

    code, requests = run(tmp_path, monkeypatch, "100000")
    assert code == 0 and not any("Here are examples" in json.dumps(body) for body in requests)
    assert len(rows("latm-user-*.jsonl")) == len(rows("latm-maker-*.jsonl")) == 8
    assert len(requests) == 3 * 2 + 2 + 4 * 2  # the user's 3 other tools, then the maker's CoT and tools
