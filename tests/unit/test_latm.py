"""LATM's graphs on scripted models: making, using, dispatching, queueing, and what it all cost."""

import json
import shutil

import pytest
from langgraph.store.memory import InMemoryStore

from graphs.latm import build_dispatcher_graph, build_tool_maker_graph, build_tool_user_graph
from nodes.common.usage import usage_by
from nodes.latm import LatmContext
from nodes.latm.queue import RequestQueue
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced
from toolmaker.costs import Price, PriceTable
from tools_registry import ToolRegistry

SORT = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically, joined by single spaces."""
    return " ".join(sorted(question.split("List:")[1].split()))
'''
SORT_BROKEN = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' in a request alphabetically."""
    return str(sorted(question.split("List:")[1].split()))
'''
SORT_WRONG_ON_ONE = '''
def sort_words(question: str) -> str:
    """Sort the words after 'List:' alphabetically (but lose the word "c")."""
    return " ".join(sorted(set(question.split("List:")[1].split()) - {"c"}))
'''


def ask(words):
    return f"Sort the following words alphabetically: List: {words}"


TRAIN = [
    {"question": ask(w), "answer": " ".join(sorted(w.split()))}
    for w in ("pear apple", "fig kiwi date", "b a")
]
VALID = [{"question": ask(w), "answer": " ".join(sorted(w.split()))} for w in ("zeta eta", "c b a", "y x")]
CALLS = "\n".join(["print(sort_words(question))"] * 3)
EXECUTOR = SubprocessExecutor()


def make(maker_replies, **context):
    models = ScriptedModels(maker=maker_replies)
    store = InMemoryStore()
    graph = build_tool_maker_graph(models=models, executor=EXECUTOR).compile(store=store)
    state = graph.invoke(
        {"task": "word_sorting", "train": TRAIN, "valid": VALID}, context=LatmContext(**context)
    )
    return state, ToolRegistry(store), models


def test_a_tool_that_passes_train_and_validation_is_registered_with_its_card_and_cost():
    state, registry, models = make([fenced(SORT + CALLS), fenced(CALLS)])
    assert state["status"] == "verified" and [r["passed"] for r in state["results"]] == [True] * 6
    record = registry.get(state["tool_id"])
    assert record.latm.family == "word_sorting" and record.latm.verified == "gold"
    assert "def sort_words" in record.latm.card and ask("zeta eta") in record.latm.card
    assert record.latm.making.calls == 2 and record.latm.making.input_tokens == 200
    assert [p["verified"] for p in state["proposals"]] == [True]
    assert [call["node"] for call in state["model_calls"]] == ["propose", "verify"]
    # The validation prompt shows the questions but not their answers.
    verify_prompt = models.maker.prompts[1][-1].content
    assert ask("zeta eta") in verify_prompt and "Answer: eta zeta" not in verify_prompt


def test_a_proposal_failing_a_train_demo_is_fixed_with_expected_and_actual_shown():
    state, registry, models = make([fenced(SORT_BROKEN + CALLS), fenced(SORT + CALLS), fenced(CALLS)])
    assert state["status"] == "verified" and state["fix_rounds"] == 1
    fix_prompt = models.maker.prompts[1][-1].content
    assert "expected answer is `apple pear`" in fix_prompt and "['apple', 'pear']" in fix_prompt
    assert registry.get(state["tool_id"]).source.strip() == SORT.strip()


def test_a_fix_that_drops_the_import_lines_of_the_function_it_fixes_gets_them_back():
    imports = "import re\n\n"
    split = 'question.split("List:")[1].split()'
    broken = imports + SORT_BROKEN.replace(split, 're.split(r"\\s+", question.split("List:")[1].strip())')
    fixed = SORT.replace(split, 're.split(r"\\s+", question.split("List:")[1].strip())')
    state, registry, _ = make([fenced(broken + CALLS), fenced(fixed + CALLS), fenced(CALLS)])
    assert state["status"] == "verified" and state["fix_rounds"] == 1
    assert registry.get(state["tool_id"]).source == imports + fixed.strip() + "\n"


def test_a_proposal_still_failing_after_its_fix_rounds_is_replaced_by_a_fresh_sampled_one():
    broken = fenced(SORT_BROKEN + CALLS)
    state, registry, models = make([broken, broken, fenced(SORT + CALLS), fenced(CALLS)], max_fix_rounds=1)
    assert state["status"] == "verified" and state["proposal"] == 1
    first, second = state["proposals"]
    assert not first["verified"] and first["train_passed"] == 0 and first["fix_rounds"] == 1
    assert second["verified"] and first["tokens"]["calls"] == 2 and second["tokens"]["calls"] == 2
    temperatures = [request.temperature for request in models.requests]
    assert temperatures[0] == 0.0 and temperatures[2] == 0.7 and models.requests[2].seed == 1


def test_a_tool_failing_validation_is_never_registered_and_the_reason_is_kept():
    wrong = fenced(SORT_WRONG_ON_ONE + CALLS)
    fix_one = fenced(SORT_WRONG_ON_ONE + "\nprint(sort_words(question))")
    replies = [wrong, fenced(CALLS), fix_one] * 2
    state, registry, _ = make(replies, max_fix_rounds=1, max_proposals=2)
    assert state["status"] == "no_tool" and state.get("tool_id") is None
    assert "after 2 proposals" in state["reason"] and "expected answer is `a b c`" in state["reason"]
    assert registry.tools() == [] and len(state["proposals"]) == 2


def test_an_unreadable_proposal_goes_to_fix_with_the_reason_and_the_examples_to_call_it_on():
    state, _, models = make(["I would sort them.", fenced(SORT + CALLS), fenced(CALLS)])
    assert state["status"] == "verified"
    fix_prompt = models.maker.prompts[1][-1].content
    assert "held no usable tool" in fix_prompt and ask("fig kiwi date") in fix_prompt
    assert "write 3 line(s)" in fix_prompt


FIRST_OPTION = '''
def first_option(question: str) -> str:
    """The alphabetically first option's text (not its letter) of a multiple-choice question."""
    return min(line.split(") ", 1)[1] for line in question.splitlines() if line.startswith("("))
'''


def test_a_tool_printing_the_chosen_options_text_passes_as_that_options_letter():
    def choose(*names):
        options = "\n".join(f"({letter}) {name}" for letter, name in zip("ABC", names, strict=False))
        letter = "ABC"[names.index(min(names))]
        return {"question": f"Who comes first?\nOptions:\n{options}", "answer": f"({letter})"}

    train = [choose("pear", "apple", "fig"), choose("kiwi", "lime", "date"), choose("b", "c", "a")]
    valid = [choose("a", "b", "c"), choose("z", "y", "x"), choose("m", "l", "n")]
    calls = "\n".join(["print(first_option(question))"] * 3)
    models = ScriptedModels(maker=[fenced(FIRST_OPTION + calls), fenced(calls)])
    graph = build_tool_maker_graph(models=models, executor=EXECUTOR).compile(store=InMemoryStore())
    state = graph.invoke({"task": "first_in_order", "train": train, "valid": valid})
    assert state["status"] == "verified"
    assert [r["answer"] for r in state["results"]] == ["(B)", "(C)", "(C)", "(A)", "(C)", "(B)"]


CARD_TOOL = {
    "name": "sort_words",
    "code": SORT,
    "docstring": "",
    "signature": "sort_words(question: str) -> str",
}


@pytest.mark.parametrize("repairs, status, answer", [(0, "failed", None), (1, "solved", "apple fig pear")])
def test_the_user_answers_with_one_call_and_repairs_only_when_allowed(repairs, status, answer):
    models = ScriptedModels(
        user=[fenced("print(sort_words(undefined))"), fenced("print(sort_words(question))")]
    )
    graph = build_tool_user_graph(models=models, executor=EXECUTOR).compile()
    state = graph.invoke(
        {"request": ask("pear apple fig"), "tool": CARD_TOOL, "card": "the card"},
        context=LatmContext(user_repair_rounds=repairs),
    )
    assert state["status"] == status and state["answer"] == answer
    assert usage_by(state["model_calls"], "node")["write_call"]["calls"] == 1
    assert all(request.role == "user" for request in models.requests)


def test_a_benchmark_use_times_the_first_answer_apart_from_the_repair():
    from evaluation.latm import _timed_use

    models = ScriptedModels(
        user=[fenced("print(sort_words(undefined))"), fenced("print(sort_words(question))")]
    )
    graph = build_tool_user_graph(models=models, executor=EXECUTOR).compile()
    request = {"request": ask("pear apple fig"), "tool": CARD_TOOL, "card": "the card"}
    state, first_try, seconds = _timed_use(graph, request, LatmContext(user_repair_rounds=1))
    assert state["answer"] == "apple fig pear" and state["repairs"] == 1
    assert 0 < first_try < seconds, "the first try ends with its sandbox run, before the repair"


def dispatcher(models, store):
    return build_dispatcher_graph(models=models, executor=EXECUTOR).compile(store=store)


def test_a_request_of_a_cached_family_is_answered_by_the_user_without_the_maker():
    store = InMemoryStore()
    maker = build_tool_maker_graph(
        models=ScriptedModels(maker=[fenced(SORT + CALLS), fenced(CALLS)]), executor=EXECUTOR
    )
    made = maker.compile(store=store).invoke(
        {"task": "word_sorting", "train": TRAIN, "valid": VALID}, context=LatmContext()
    )
    tool_id = made["tool_id"]
    models = ScriptedModels(
        user=['{"choice": "word_sorting", "family": "word_sorting"}', fenced(CALLS.splitlines()[0])]
    )
    state = dispatcher(models, store).invoke({"request": ask("pear apple fig")}, context=LatmContext())
    assert (
        state["route"] == "cached tool"
        and state["answer"] == "apple fig pear"
        and state["tool_id"] == tool_id
    )
    assert set(state["tokens"]) == {"user"} and state["candidates"] == ["word_sorting"]
    assert "word_sorting" in models.user.prompts[0][-1].content
    assert ToolRegistry(store).stats(tool_id).uses == 1


def test_a_cached_tool_far_from_the_request_is_not_offered_to_the_dispatcher():
    from nodes.latm.dispatch import cached_families

    store = InMemoryStore()
    maker = build_tool_maker_graph(
        models=ScriptedModels(maker=[fenced(SORT + CALLS), fenced(CALLS)]), executor=EXECUTOR
    )
    maker.compile(store=store).invoke({"task": "word_sorting", "train": TRAIN, "valid": VALID})
    registry, threshold = ToolRegistry(store), LatmContext().dispatch_min_score
    far = "Alice and Claire trade balls: Alice and Bob swap. Which ball has Claire in the following list?"
    assert list(cached_families(registry, ask("kiwi fig"), 3, threshold)) == ["word_sorting"]
    assert list(cached_families(registry, far, 3)) == ["word_sorting"]  # it matches, a little
    assert cached_families(registry, far, 3, threshold) == {}


def test_a_waiting_family_is_offered_only_to_requests_that_share_its_words():
    from nodes.latm.dispatch import _nearest

    waiting = {"brackets": "Complete the rest of the sequence, making sure the parentheses are closed: [ {"}
    dance = "Alice, Bob and Claire are dancers. First, Alice and Bob switch partners. Who dances with Claire?"
    assert _nearest(waiting, "Complete the rest of the sequence: ( [", 3, 0.3) == waiting
    assert _nearest(waiting, dance, 3, 0.3) == {} and _nearest(waiting, dance, 3, 0.0) == waiting


def test_none_queues_the_request_answered_by_the_maker_and_a_full_queue_makes_the_tool_for_every_waiter():
    store = InMemoryStore()

    def creator_answer(words):  # CREATOR's create and decide: the call spells the request out
        return [fenced(SORT), fenced(f"print(sort_words({ask(words)!r}))")]

    # Request 1: none, CREATOR answers, queued. Request 2: the waiting family, CREATOR, queue full → make.
    user = [
        '{"choice": "none", "family": "Word Sorting"}',
        '{"choice": "word_sorting", "family": "word_sorting"}',
        fenced("print(sort_words(question))"),
        fenced("print(sort_words(question))"),
    ]
    one_call = "print(sort_words(question))"
    maker = [
        *creator_answer("pear apple"),
        *creator_answer("kiwi fig"),
        fenced(f"{SORT}\n{one_call}"),
        fenced(one_call),
    ]
    models = ScriptedModels(maker=maker, user=user)
    graph = dispatcher(models, store)
    first = graph.invoke({"request": ask("pear apple")}, context=LatmContext(queue_threshold=2))
    assert (
        first["route"] == "queued" and first["family"] == "word_sorting" and first["answer"] == "apple pear"
    )
    assert [w.label for w in RequestQueue(store).waiting("word_sorting")] == ["apple pear"]
    second = graph.invoke({"request": ask("kiwi fig")}, context=LatmContext(queue_threshold=2))
    assert second["route"] == "made now" and second["answer"] == "fig kiwi"
    assert [w["answer"] for w in second["waiters"]] == ["apple pear", "fig kiwi"]
    record = ToolRegistry(store).get(second["tool_id"])
    assert record.latm.verified == "self" and ToolRegistry(store).stats(record.id).uses == 2
    assert RequestQueue(store).waiting("word_sorting") == []
    assert "word_sorting" in models.user.prompts[1][-1].content  # the waiting family was offered


def test_a_user_endpoint_failing_after_the_making_leaves_the_tool_cached_and_no_queue_behind():
    store = InMemoryStore()
    creator = [fenced(SORT), fenced(f"print(sort_words({ask('pear apple')!r}))")]
    creator += [fenced(SORT), fenced(f"print(sort_words({ask('kiwi fig')!r}))")]
    one_call = "print(sort_words(question))"
    maker = [*creator, fenced(f"{SORT}\n{one_call}"), fenced(one_call)]
    # The user answers the first waiter with the new tool, then its endpoint is gone.
    user = [
        '{"choice": "none", "family": "word_sorting"}',
        '{"choice": "word_sorting", "family": "word_sorting"}',
        fenced(one_call),
    ]
    graph = dispatcher(ScriptedModels(maker=maker, user=user), store)
    graph.invoke({"request": ask("pear apple")}, context=LatmContext(queue_threshold=2))
    with pytest.raises(AssertionError, match="model called"):
        graph.invoke({"request": ask("kiwi fig")}, context=LatmContext(queue_threshold=2))
    assert RequestQueue(store).waiting("word_sorting") == []
    (record,) = [r for r in ToolRegistry(store).tools() if r.latm]
    assert record.latm.family == "word_sorting" and ToolRegistry(store).stats(record.id).uses == 1


def test_cost_figures_add_up_per_node_role_and_request_and_price_in_dollars():
    state, _, _ = make([fenced(SORT_BROKEN + CALLS), fenced(SORT + CALLS), fenced(CALLS)])
    by_node, by_role = usage_by(state["model_calls"], "node"), usage_by(state["model_calls"], "role")
    assert {node: usage["calls"] for node, usage in by_node.items()} == {"propose": 1, "fix": 1, "verify": 1}
    assert by_role["maker"] == state["tokens"]["maker"] == {"input": 300, "output": 30, "calls": 3}
    prices = PriceTable(models={"maker": Price(input_per_million=10, output_per_million=30)})
    assert prices.dollars(state["model_calls"]) == pytest.approx(300 * 10 / 1e6 + 30 * 30 / 1e6)


@pytest.mark.parametrize(
    "prediction, gold, task, expected",
    [
        ("(B)", "(B)", "logical_deduction_five_objects", True),
        ("B", "(B)", "a_family_the_dispatcher_named", True),
        ("14687.0", "14687", "a_family_the_dispatcher_named", True),
        ("14687.0", "14687", "chinese_remainder_theorem", False),  # Big-Bench's exact match
        ("]]", "] ]", "dyck_languages", True),
        ("Apple Fig", "apple fig", "another_family", True),
        ("apple", "apple fig", "another_family", False),
    ],
)
def test_any_family_is_graded_by_its_rules_or_by_the_gold_answers_shape(prediction, gold, task, expected):
    from nodes.common.grading import grade_task

    assert grade_task(prediction, gold, task) is expected


def test_dispatch_figures_count_right_tools_and_decisions_against_the_families_true_tasks(tmp_path):
    import json

    from evaluation.dispatch import _family_origins, write_dispatch_report

    def row(task, had, route, family):
        tokens = {"user": {"input": 9, "output": 1, "calls": 1}}
        return {"id": f"{task}/{family}/{route}", "task": task, "task_had_tool": had, "route": route,
                "family": family, "correct": route == "cached tool", "tokens": tokens,
                "seconds": 1.0}  # fmt: skip

    rows = [
        row("word_sorting", True, "cached tool", "word_sorting"),
        row("dyck_languages", True, "cached tool", "word_sorting"),  # the wrong tool
        row("schedule_meeting", False, "queued", "meeting_slots"),
        row("schedule_meeting", False, "made now", "meeting_slots"),
        row("schedule_meeting", True, "cached tool", "meeting_slots"),  # the tool made in the stream
        row("dyck_languages", True, "queued", "brackets"),  # had a tool, but was sent to make one
    ]
    origin = _family_origins(rows, ["word_sorting", "dyck_languages"])
    assert origin == {"word_sorting": "word_sorting", "dyck_languages": "dyck_languages",
                      "meeting_slots": "schedule_meeting", "brackets": "dyck_languages"}  # fmt: skip
    for each in rows:
        each["family_task"] = origin[each["family"]]
    (tmp_path / "latm-dispatch.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    seeded = ["word_sorting", "dyck_languages"]
    report = write_dispatch_report(tmp_path, seeded=seeded, held_out=("x",), per_task=5, seed=1)
    text = report.read_text()
    assert f"`toolmaker experiment latm-dispatch --n 5 --seed 1 --out-dir {tmp_path}`" in text
    assert "| right tool (requests of a family that had a tool) | 50.0% (2/4) |" in text
    assert "| right reuse-vs-new decision (all requests) | 83.3% (5/6) |" in text
    assert "| requests that waited in a queue | 2 |" in text
    assert "| tools made during the stream | 1 |" in text


def test_calls_keep_the_lines_that_set_them_up_and_the_tool_keeps_none_of_them():
    from nodes.latm.examples import read_tool_and_calls

    reply = fenced(
        SORT
        + 'question = "List: pear apple"\nprint(sort_words(question))\n'
        + 'WORDS = "List: b a"\nresult = sort_words(WORDS)\nresult = result.strip()\nprint(result)\n'
        + "print(sort_words(question))"
    )
    tool, calls = read_tool_and_calls(reply, 3)
    assert "question =" not in tool["code"] and "WORDS" not in tool["code"]
    assert calls == [
        'question = "List: pear apple"\nprint(sort_words(question))',
        'WORDS = "List: b a"\nresult = sort_words(WORDS)\nresult = result.strip()\nprint(result)',
        "print(sort_words(question))",
    ]


@pytest.mark.parametrize("name", ["latm-tool-maker", "latm-tool-user", "latm-dispatcher"])
def test_the_latm_graphs_have_the_topology_the_readme_shows(name, capsys):
    from pathlib import Path

    from cli import main

    assert main(["graph", name]) == 0
    golden = Path(__file__).parent / f"{name.replace('-', '_')}_topology.mmd"
    assert capsys.readouterr().out == golden.read_text()


@pytest.mark.parametrize(
    "reply, family",
    [
        ('{"choice": "none", "family": "none"}', "how_many_days_are"),
        ('{"choice": "none", "family": ""}', "how_many_days_are"),
        ('{"choice": "none", "family": "Day Counting"}', "day_counting"),
        ("I think none of them", "how_many_days_are"),
    ],
)
def test_a_new_family_is_never_named_none(reply, family):
    store = InMemoryStore()
    tool = fenced("def days(w: int, d: int) -> int:\n    return 7 * w + d")
    models = ScriptedModels(user=[reply], maker=[tool, fenced("print(days(3, 4))")])
    state = dispatcher(models, store).invoke(
        {"request": "How many days are there in 3 weeks and 4 days?"}, context=LatmContext()
    )
    assert state["choice"] == "none" and state["family"] == family and state["route"] == "queued"
    assert state["answer"] == "25" and [w.label for w in RequestQueue(store).waiting(family)] == ["25"]


def test_a_new_family_never_takes_the_name_of_a_family_it_was_not_offered():
    store = InMemoryStore()
    RequestQueue(store).add("unit_conversion", "Convert 3 kilometres to miles.", "1.86")
    tool = fenced("def days(w: int, d: int) -> int:\n    return 7 * w + d")
    reply = '{"choice": "none", "family": "unit_conversion"}'  # the prompt's own example name, parroted
    models = ScriptedModels(user=[reply], maker=[tool, fenced("print(days(3, 4))")])
    state = dispatcher(models, store).invoke({"request": "How many days are there in 3 weeks and 4 days?"})
    assert state["pending"] == [] and state["family"] == "how_many_days_are"
    assert len(RequestQueue(store).waiting("unit_conversion")) == 1


def test_the_amortised_cost_section_says_from_which_n_latm_is_cheaper(tmp_path):
    from evaluation.latm import _amortised_section

    lines = _amortised_section(
        {"word_sorting": {"making": 60.0, "use": 2.0, "cot": 25.0}, "dyck_languages": {"making": 90.0}},
        tmp_path,
    )
    assert (tmp_path / "plots" / "latm" / "cost_over_n.png").stat().st_size > 0
    assert any("word_sorting" in line and "cheaper from n = 3 on" in line for line in lines)
    assert not any("dyck_languages" in line for line in lines)  # no use and no CoT measured yet


@pytest.mark.datasets
def test_the_latm_report_compares_methods_on_common_items_with_each_made_tool_and_the_constant_baseline(
    tmp_path,
):
    import json

    from evaluation.datasets import load_bbh, sample
    from evaluation.latm import write_latm_report

    def write(name, rows):
        (tmp_path / name).write_text("".join(json.dumps(row) + "\n" for row in rows))

    task = "schedule_meeting"
    items = sample(load_bbh(task, "test"), 4, 1)
    tokens = {"user": {"input": 90, "output": 10, "calls": 1}}

    def rows(right, repaired=False):
        made = []
        for item, r in zip(items, right, strict=True):
            answer = item["answer"] if r else "a wrong slot"
            row = {"id": item["id"], "dataset": f"bbh-{task}", "prediction": answer, "gold": item["answer"],
                   "correct": r, "tokens": tokens, "seconds": 2.0}  # fmt: skip
            if repaired:  # the repair fixes every answer
                row["answer_after_round"] = {"0": answer, "1": item["answer"]}
            made.append(row)
        return made

    write(f"user-cot-bbh-{task}.jsonl", rows([False] * 4))
    write(f"maker-cot-bbh-{task}.jsonl", rows([True, False, False, False])[:3])  # one item not finished yet
    making = {"task": task, "verified": True, "proposals": [{}], "tokens": tokens, "seconds": 40.0}
    runs = [
        {"run": "greedy", "seed": 0, "temperature": 0.0, "verified": False},
        {"run": "s0", "seed": 0, "temperature": 0.3},
        # s1 was resumed after a kill: its wall clock counts the last part only, its model time all.
        {"run": "s1", "seed": 1, "temperature": 0.3, "seconds": 10.0, "model_seconds": 100.0},
    ]
    write(f"making-{task}.jsonl", [{**making, **run} for run in runs])
    write(f"latm-user-s0-bbh-{task}.jsonl", rows([True, True, False, False], repaired=True))
    write(f"latm-maker-s0-bbh-{task}.jsonl", rows([True, True, True, False], repaired=True))
    write(f"latm-user-s1-bbh-{task}.jsonl", rows([False, False, False, False], repaired=True))
    write(f"latm-maker-s1-bbh-{task}.jsonl", rows([True, False, True, False], repaired=True))
    text = write_latm_report(tmp_path, n=4, seed=1, tasks=(task,)).read_text()
    latm_cells = "s0: 66.7, s1: 0.0 | s0: 100.0, s1: 100.0 | s0: 100.0, s1: 66.7"
    assert f"| {task} | 3 | 0.0 | 33.3 | {latm_cells} |" in text
    constant = sum(item["answer"] == "No time slot works." for item in items[:3])
    assert f'| (constant "No time slot works.") | 3 | {100 * constant / 3:.1f} |' in text
    assert f"| {task} | no tool | 2 / 2 | 1.0 | 100 | 60 |" in text
    assert "one verified tool cost C = 90 s to make" in text  # all three runs' seconds, for two tools


def test_a_graph_invoked_without_a_context_runs_on_the_context_defaults():
    models = ScriptedModels(user=[fenced("print(sort_words(question))")])
    graph = build_tool_user_graph(models=models, executor=EXECUTOR).compile()
    state = graph.invoke({"request": ask("pear apple"), "tool": CARD_TOOL, "card": "the card"})
    assert state["answer"] == "apple pear" and models.requests[0].temperature == LatmContext().temperature


def test_a_family_whose_tool_cannot_be_made_is_offered_later_and_answered_by_the_maker_directly():
    store = InMemoryStore()
    days = "How many days are there in 3 weeks and 4 days?"
    creator = [fenced("def days(w: int, d: int) -> int:\n    return 7 * w + d"), fenced("print(days(3, 4))")]
    user = ['{"choice": "none", "family": "day_counting"}', '{"choice": "none", "family": "day_counting"}',
            '{"choice": "day_counting", "family": "day_counting"}']  # fmt: skip
    # Two requests fill the queue; the maker's proposal never parses, so no tool is made.
    no_proposal = ["I cannot write that."] * 2
    models = ScriptedModels(maker=[*creator, *creator, *no_proposal, *creator], user=user)
    graph = dispatcher(models, store)
    context = LatmContext(queue_threshold=2, max_fix_rounds=0, max_proposals=2)
    assert graph.invoke({"request": days}, context=context)["route"] == "queued"
    second = graph.invoke({"request": days.replace("3 weeks", "2 weeks")}, context=context)
    assert second["route"] == "no tool" and RequestQueue(store).waiting("day_counting") == []
    assert "day_counting" in RequestQueue(store).no_tool_families()
    third = graph.invoke({"request": days}, context=context)
    assert third["route"] == "no tool" and third["answer"] == "25" and third["choice"] == "day_counting"
    assert "answered without a tool" in models.user.prompts[2][-1].content
    assert RequestQueue(store).waiting("day_counting") == []  # answered directly, not queued again


def test_the_maker_refuses_to_make_a_tool_it_cannot_verify_and_odd_requests_still_get_a_family():
    from nodes.latm.dispatch import family_name

    graph = build_tool_maker_graph(models=ScriptedModels(), executor=EXECUTOR).compile()
    with pytest.raises(ValueError, match="at least one train and one validation example"):
        graph.invoke({"task": "t", "train": TRAIN, "valid": []}, context=LatmContext())
    assert family_name("Sort words!") == "sort_words"
    name = family_name("日本語の質問")
    assert (
        name.startswith("family_") and len(name) == len("family_") + 8 and name == family_name("日本語の質問")
    )


FIRST_LINE = '''
def first_line(text: str) -> str:
    """The first line of a text."""
    return text.splitlines()[0]
'''


def stream_reply(body):
    """The scripted endpoint of a dispatch stream: sorting requests have a tool, the others go to CREATOR."""
    text = "\n".join(str(message["content"]) for message in body["messages"])
    if "Known task families:" in text:
        options, request = text.split("Known task families:")[1].split("\nRequest:\n")
        sorting = "Sort the following words" in request and "- word_sorting:" in options
        return json.dumps({"choice": "word_sorting" if sorting else "none", "family": "other"})
    if "Write the one line of Python that calls the tool" in text:
        return fenced("print(sort_words(question))")
    if "Do not solve this particular problem" in text:  # CREATOR's create
        return fenced(FIRST_LINE)
    if "You have this tool" in text:  # CREATOR's decide
        return fenced('print(first_line("an answer"))')
    return "an unexpected prompt: " + text[:200]


@pytest.mark.datasets
def test_a_dispatch_stream_stopped_by_a_failed_call_goes_on_inside_its_request(tmp_path, monkeypatch):
    from evaluation.dispatch import run_dispatch
    from evaluation.rows import BenchError, read_rows
    from tests.fakes import FakeOpenAIServer, Fault
    from toolmaker.costs import Budget
    from toolmaker.settings import get_settings
    from tools_registry import tool_from_source

    def folder_with_a_sorting_tool(name):
        folder = tmp_path / name
        folder.mkdir()
        card = fenced(f"{SORT}\nprint(sort_words(question))")
        made = {"task": "word_sorting", "run": "greedy", "verified": True, "tool": tool_from_source(SORT)}
        (folder / "making-word_sorting.jsonl").write_text(json.dumps({**made, "card": card}) + "\n")
        return folder

    def stream(folder, reply, budget=None):
        """The stream of one test item per task, run until it ends or fails; the calls it made."""
        with FakeOpenAIServer(reply) as server:
            for role in ("MAKER", "USER"):
                monkeypatch.setenv(f"TOOLMAKER_{role}_BASE_URL", server.base_url)
                monkeypatch.setenv(f"TOOLMAKER_{role}_MODEL", "scripted")
            get_settings.cache_clear()
            try:
                run_dispatch(folder, per_task=1, seed=1, budget=budget)
            except BenchError as exc:
                return len(server.requests), str(exc)
        return len(server.requests), None

    monkeypatch.setenv("TOOLMAKER_REQUEST_RETRIES", "0")
    straight = folder_with_a_sorting_tool("straight")
    asked, error = stream(straight, stream_reply)
    assert error is None

    def decide_fails_once(body):
        text = "\n".join(str(message["content"]) for message in body["messages"])
        if "You have this tool" in text and not failed:
            failed.append(text)
            return Fault("status", 503)
        return stream_reply(body)

    failed: list[str] = []
    cut = folder_with_a_sorting_tool("cut")
    before, error = stream(cut, decide_fails_once)
    assert error is not None and "503" in error and "a rerun goes on from there" in error
    after, error = stream(cut, stream_reply)
    assert error is None
    # Only the failed call is asked again: the request's dispatch and create are not.
    assert before - 1 + after == asked
    rows, straight_rows = read_rows(cut / "latm-dispatch.jsonl"), read_rows(straight / "latm-dispatch.jsonl")
    assert [(r["id"], r["route"], r["family"], r["answer"]) for r in rows] == [
        (r["id"], r["route"], r["family"], r["answer"]) for r in straight_rows
    ]
    assert [r["resumed"] for r in rows].count(True) == 1
    assert {r["route"] for r in rows} == {"cached tool", "queued"}
    # A budget stops the stream before a request that could pass it; a rerun without one goes on.
    budgeted = folder_with_a_sorting_tool("budgeted")
    _, error = stream(budgeted, stream_reply, Budget(tokens=1))
    assert error is not None and error.startswith("stopped before request")
    assert len(read_rows(budgeted / "latm-dispatch.jsonl")) == 1
    assert stream(budgeted, stream_reply)[1] is None
    assert [r["answer"] for r in read_rows(budgeted / "latm-dispatch.jsonl")] == [
        r["answer"] for r in straight_rows
    ]
    # Rows without the registry and queues they were dispatched against are not continued.
    (cut / "latm-dispatch.sqlite").unlink()
    with pytest.raises(BenchError, match="registry and queues .* are gone"):
        run_dispatch(cut, per_task=1, seed=1)
    # A stopped stream whose folder is deleted starts over: none of its requests resumes.
    failed.clear()
    stream(folder_with_a_sorting_tool("again"), decide_fails_once)
    shutil.rmtree(tmp_path / "again")
    calls, error = stream(folder_with_a_sorting_tool("again"), stream_reply)
    assert error is None and calls == asked
    assert not any(r["resumed"] for r in read_rows(tmp_path / "again" / "latm-dispatch.jsonl"))


def test_a_user_endpoint_gone_while_the_queue_is_answered_leaves_the_makers_answers_and_no_queue():
    import httpx
    import openai

    from tests.fakes import ScriptedChatModel

    class GoneAfterItsScript(ScriptedChatModel):
        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            if len(self.prompts) >= len(self.replies):
                raise openai.APIConnectionError(request=httpx.Request("POST", "http://127.0.0.1:9/v1"))
            return super()._generate(messages, stop, run_manager, **kwargs)

    store = InMemoryStore()
    creator = [fenced(SORT), fenced(f"print(sort_words({ask('pear apple')!r}))")]
    creator += [fenced(SORT), fenced(f"print(sort_words({ask('kiwi fig')!r}))")]
    one_call = "print(sort_words(question))"
    models = ScriptedModels(maker=[*creator, fenced(f"{SORT}\n{one_call}"), fenced(one_call)])
    # The user answers the first waiter with the new tool, then its endpoint is gone.
    dispatch = '{"choice": "none", "family": "word_sorting"}'
    models.user = GoneAfterItsScript(replies=[dispatch, dispatch, fenced(one_call)])
    graph = dispatcher(models, store)
    context = LatmContext(queue_threshold=2)
    assert graph.invoke({"request": ask("pear apple")}, context=context)["route"] == "queued"
    state = graph.invoke({"request": ask("kiwi fig")}, context=context)
    first, second = state["waiters"]
    assert state["route"] == "made now" and first == {"request": ask("pear apple"), "answer": "apple pear"}
    assert second["answer"] == "fig kiwi" and "APIConnectionError" in second["failed"]  # the maker's answer
    assert state["answer"] == "fig kiwi" and RequestQueue(store).waiting("word_sorting") == []
    (record,) = [r for r in ToolRegistry(store).tools() if r.latm]
    assert ToolRegistry(store).stats(record.id).uses == 2
