from graphs.baselines import build_cot_graph, build_entangled_graph, build_pot_graph, build_pot_vote_graph
from graphs.running import solve
from nodes import CreatorContext
from nodes.baselines.reason import final_answer
from sandbox import SubprocessExecutor
from tests.fakes import ScriptedModels, fenced

PROBLEM = {"problem": "What is the sum of the digits of 2**100?"}
EXECUTOR = SubprocessExecutor()


def test_chain_of_thought_takes_the_last_answer_line():
    assert final_answer("2**100 = 1267...\nSo the answer is: 115.") == "115"
    assert final_answer("The remainder is \\(\\boxed{1}\\).") == "1"
    assert final_answer("so \\boxed{\\frac{1}{2}} and then \\boxed{\\dfrac{3}{4}}.") == "\\dfrac{3}{4}"
    assert final_answer("Answer: \\(42\\)") == "42"
    assert final_answer("Thus the answer is 12 apples. Done") == "12 apples"
    assert final_answer("I cannot tell, the box \\boxed{ is unclosed") is None
    graph = build_cot_graph(models=ScriptedModels(maker=["Step 1 ...\nAnswer: 115"])).compile()
    report = solve(graph, PROBLEM, CreatorContext())
    assert (report["answer"], report["status"], report["tokens"]["maker"]["calls"]) == ("115", "solved", 1)
    silent = solve(
        build_cot_graph(models=ScriptedModels(maker=["I am not sure."])).compile(), PROBLEM, CreatorContext()
    )
    assert silent["answer"] is None and silent["status"] == "failed"


def test_every_method_gives_a_chosen_options_text_as_its_letter():
    choice = {"problem": "Who is taller?\nOptions:\n(A) Ann\n(B) Bo"}
    cot = build_cot_graph(models=ScriptedModels(maker=["Bo is taller.\nAnswer: Bo"])).compile()
    pot = build_pot_graph(models=ScriptedModels(maker=[fenced("print('Bo')")]), executor=EXECUTOR).compile()
    assert solve(cot, choice, CreatorContext())["answer"] == "(B)"
    assert solve(pot, choice, CreatorContext())["answer"] == "(B)"


def test_program_of_thought_runs_one_program_in_the_sandbox():
    models = ScriptedModels(maker=[fenced("print(sum(int(d) for d in str(2 ** 100)))")])
    report = solve(build_pot_graph(models=models, executor=EXECUTOR).compile(), PROBLEM, CreatorContext())
    assert report["answer"] == "115" and report["tool"] is None and len(report["attempts"]) == 1


def test_program_of_thought_with_rectification_fixes_the_program():
    broken, fixed = fenced("print(sum(str(2 ** 100)))"), fenced("print(sum(int(d) for d in str(2 ** 100)))")
    models = ScriptedModels(maker=[broken, fixed])
    report = solve(build_pot_graph(models=models, executor=EXECUTOR).compile(), PROBLEM, CreatorContext())
    assert report["status"] == "solved" and report["rounds"] == 1
    assert report["attempts"][-1]["fixed"] == "call"
    assert "TypeError" in models.maker.prompts[1][-1].content


def test_program_of_thought_without_rectification_stops_at_the_first_failure():
    models = ScriptedModels(maker=[fenced("print(sum(str(2 ** 100)))")])
    graph = build_pot_graph(models=models, executor=EXECUTOR).compile()
    report = solve(graph, PROBLEM, CreatorContext(max_rectify_rounds=0))
    assert report["status"] == "failed" and len(report["attempts"]) == 1 and len(models.maker.prompts) == 1


def test_entangled_creator_writes_tool_and_call_in_one_reply():
    reply = fenced(
        'def digit_sum(n: int) -> int:\n    """Digit sum."""\n    return sum(int(d) for d in str(n))\n\n'
        "print(digit_sum(2 ** 100))"
    )
    models = ScriptedModels(maker=[reply])
    report = solve(
        build_entangled_graph(models=models, executor=EXECUTOR).compile(), PROBLEM, CreatorContext()
    )
    assert report["answer"] == "115" and report["tool"]["name"] == "digit_sum"
    assert report["call"] == "print(digit_sum(2 ** 100))" and len(models.maker.prompts) == 1


def test_baseline_topologies():
    pot = build_pot_graph(models=ScriptedModels(), executor=EXECUTOR).compile().get_graph().draw_mermaid()
    assert "execute -. &nbsp;rectify&nbsp; .-> fix_program;" in pot and "fix_program --> execute;" in pot
    entangled = build_entangled_graph(models=ScriptedModels(), executor=EXECUTOR).compile().get_graph()
    assert {"create_and_decide", "execute", "rectify", "register"} <= set(entangled.nodes)


def test_majority_vote_samples_programs_with_distinct_seeds_and_takes_the_majority():
    right, wrong = fenced("print(sum(int(d) for d in str(2 ** 100)))"), fenced("print(116)")
    models = ScriptedModels(maker=[wrong, right, "no code at all", right])
    graph = build_pot_vote_graph(models=models, executor=EXECUTOR).compile()
    report = solve(graph, PROBLEM, CreatorContext(vote_samples=4))
    assert report["answer"] == "115" and report["status"] == "solved"
    assert [a["answer"] for a in report["attempts"]] == ["116", "115", None, "115"]
    assert report["tokens"]["maker"]["calls"] == 4
    assert [r.seed for r in models.requests] == [0, 1, 2, 3] and {r.temperature for r in models.requests} == {
        0.7
    }


def test_a_vote_counts_one_number_however_it_was_printed():
    fraction, decimal = fenced("print('1/4')"), fenced("print(0.25)")
    models = ScriptedModels(maker=[fenced("print(0.3)"), fraction, decimal])
    graph = build_pot_vote_graph(models=models, executor=EXECUTOR).compile()
    report = solve(graph, PROBLEM, CreatorContext(vote_samples=3))
    assert report["answer"] == "1/4" and [a["answer"] for a in report["attempts"]] == ["0.3", "1/4", "0.25"]


def test_a_vote_told_the_answer_is_one_value_does_not_count_pairs():
    pair, one = fenced("print((2, 8))"), fenced("print(8 - 2)")
    graph = build_pot_vote_graph(models=ScriptedModels(maker=[pair, pair, one]), executor=EXECUTOR).compile()
    report = solve(graph, PROBLEM, CreatorContext(vote_samples=3, one_value_answers=True))
    assert report["answer"] == "6" and [a["answer"] for a in report["attempts"]] == [None, None, "6"]
    assert "several values" in report["attempts"][0]["failure"]
