"""``toolmaker experiment latm-making``: maker prompt variants compared on LATM's spare demos."""

import json
import subprocess

import pytest

from cli import main
from evaluation.latm import bbh_demos
from evaluation.rows import code_version, code_version_at
from prompts import PROMPTS_DIR
from tests.fakes import FakeOpenAIServer, fenced
from toolmaker.settings import get_settings

SORT = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically, joined by single spaces."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
CALLS = "\n".join(["print(sort_words(question))"] * 2)
MARK = "You write tools one step at a time."


def questions(demos):
    return {example["question"] for split in ("train", "valid") for example in demos[split]}


@pytest.mark.datasets
def test_spare_demos_are_the_train_and_valid_items_no_scored_making_uses():
    spare, scored = bbh_demos("word_sorting", spare=True), bbh_demos("word_sorting")
    assert len(spare["train"]) == len(spare["valid"]) == 2
    assert not questions(spare) & questions(scored)


def reply(body):
    """A tool and its calls for propose, the calls alone for verify (spare demos: 2 a split)."""
    text = " ".join(str(message["content"]) for message in body["messages"])
    return fenced(SORT + CALLS) if "Here are examples" in text else fenced(CALLS)


def run_experiment(tmp_path, monkeypatch, *options):
    with FakeOpenAIServer(reply) as server:
        monkeypatch.setenv("TOOLMAKER_MAKER_MODEL", "scripted")
        monkeypatch.setenv("TOOLMAKER_MAKER_BASE_URL", server.base_url)
        get_settings.cache_clear()
        out = tmp_path / "variants"
        code = main(["experiment", "latm-making", "--task", "word_sorting", "--out-dir", str(out), *options])
    return code, out, server.requests


@pytest.mark.datasets
def test_each_variant_makes_every_run_from_the_spare_demos_and_the_report_puts_variants_side_by_side(
    tmp_path, monkeypatch, capsys
):
    variant = tmp_path / "stepwise.md"
    default = (PROMPTS_DIR / "propose" / "default.md").read_text()
    variant.write_text(default.replace("## system\n", f"## system\n{MARK} ", 1))

    code, out, requests = run_experiment(tmp_path, monkeypatch)
    assert code == 0 and not any(MARK in json.dumps(body) for body in requests)
    code, out, requests = run_experiment(tmp_path, monkeypatch, "--prompt-variant", f"propose={variant}")
    assert code == 0

    proposing = [body for body in requests if "Here are examples" in json.dumps(body)]
    assert len(proposing) == 4 and all(MARK in json.dumps(body) for body in proposing)
    spare = questions(bbh_demos("word_sorting", spare=True))
    assert all(question in json.dumps(requests) for question in spare)
    rows = [json.loads(line) for line in (out / "propose=stepwise" / "making-word_sorting.jsonl").open()]
    assert [row["run"] for row in rows] == ["greedy", "s0", "s1", "s2"]
    assert all(row["verified"] and row["prompts"] == {"propose_prompt": str(variant)} for row in rows)
    assert all(row["code"] == code_version() for row in rows)
    report = (out / "latm-making.md").read_text()
    assert report in capsys.readouterr().out
    assert "| task | default | propose=stepwise |" in report
    assert report.count("4 / 4 (1.0 proposals") == 2


@pytest.mark.datasets
def test_rows_of_another_variant_are_never_resumed_as_this_ones(tmp_path, monkeypatch, capsys):
    first, second = tmp_path / "a" / "mine.md", tmp_path / "b" / "mine.md"
    for path in (first, second):
        path.parent.mkdir()
        path.write_text((PROMPTS_DIR / "propose" / "default.md").read_text())
    assert run_experiment(tmp_path, monkeypatch, "--prompt-variant", f"propose={first}")[0] == 0
    code, _, requests = run_experiment(tmp_path, monkeypatch, "--prompt-variant", f"propose={second}")
    assert code != 0 and not requests
    assert "give each variant a results folder of its own" in " ".join(capsys.readouterr().err.split())


@pytest.mark.datasets
def test_a_budget_stops_the_makings_before_one_could_pass_it_and_a_larger_one_goes_on(
    tmp_path, monkeypatch, capsys
):
    # The scripted endpoint bills 55 tokens a call, a making 2 calls: a third making would pass 250.
    code, out, _ = run_experiment(tmp_path, monkeypatch, "--budget", "250")
    err = " ".join(capsys.readouterr().err.split())
    assert code == 1 and "stopped before making word_sorting's tool (s1)" in err and "(220 tokens" in err
    rows = out / "default" / "making-word_sorting.jsonl"
    assert [json.loads(line)["run"] for line in rows.open()] == ["greedy", "s0"]
    code, out, requests = run_experiment(tmp_path, monkeypatch, "--budget", "1000")
    assert code == 0 and len(requests) == 4
    assert [json.loads(line)["run"] for line in rows.open()] == ["greedy", "s0", "s1", "s2"]


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["latm-making", "--prompt-variant", "write_call=short"], "not write_call"),
        (["latm", "--prompt-variant", "propose=short"], "compare maker prompts with latm-making"),
        (["latm", "--model", "gpt-4o-mini"], "TOOLMAKER_MAKER_MODEL"),
        (["main", "--task", "word_sorting"], "--task goes with latm and latm-making only"),
        (["main", "--prompt-variant", "propose=short"], "not propose"),
        (["transfer", "--column", "creator"], "--column goes with the presets of columns only"),
        (["transfer", "--concurrency", "2"], "transfer runs one item at a time"),
        (["transfer", "--prompt-variant", "demos-{dataset}"], "{dataset} stands for nothing there"),
        (["quality", "--column", "pot-rectify", "--report-only"], "--report-only grows none"),
        (["transfer", "--report-only"], "does not exist, so there are no rows to report"),
        (["quality", "--column", "creator"], "quality has no column creator; its columns: pot-rectify"),
    ],
)
def test_options_an_experiment_would_ignore_are_refused_before_any_work(options, problem, tmp_path, capsys):
    code = main(["experiment", *options, "--out-dir", str(tmp_path / "out")])
    assert code != 0 and problem in " ".join(capsys.readouterr().err.split())
    assert not (tmp_path / "out").exists()


def test_rows_name_the_commit_that_made_them_and_whether_its_code_was_changed(tmp_path):
    def git(*command):
        done = subprocess.run(["git", "-C", str(tmp_path), *command], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert code_version_at(tmp_path) is None  # not a checkout
    git("init", "-q")
    (tmp_path / "results").mkdir()
    for name in ("tool.py", "results/rows.jsonl"):
        (tmp_path / name).write_text("first\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    head = git("rev-parse", "--short=12", "HEAD")
    (tmp_path / "results/rows.jsonl").write_text("first\nmore rows, as a benchmark writes them\n")
    (tmp_path / "notes.txt").write_text("untracked\n")
    assert code_version_at(tmp_path) == head
    (tmp_path / "tool.py").write_text("changed\n")
    assert code_version_at(tmp_path) == f"{head}+dirty"
