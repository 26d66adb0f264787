from pathlib import Path
from typing import get_args

import pytest

import prompts
from graphs.agent import AgentContext
from nodes.creator.context import CreatorContext, PromptNode
from nodes.latm.context import LatmContext, LatmPromptNode
from prompts import PromptError, load_prompt, prompt_label, variants


def test_every_prompt_folder_is_a_node_the_context_can_choose_a_variant_for():
    folders = {
        path.name for path in Path(prompts.__file__).parent.iterdir() if path.is_dir() and path.name[0] != "_"
    }
    assert folders == set(get_args(PromptNode)) | set(get_args(LatmPromptNode)) | {"agent"}
    assert AgentContext(agent_prompt="strict").prompt_variant("agent") == "strict"
    context = CreatorContext(program_prompt="terse", rectify_prompt="my.md")
    assert context.prompt_variant("program") == "terse"
    assert context.non_default_prompts() == {"rectify": "my.md", "program": "terse"}
    latm = LatmContext(dispatch_prompt="strict")
    assert [latm.prompt_variant(node) for node in get_args(LatmPromptNode)][-1] == "strict"


@pytest.mark.parametrize("node", get_args(PromptNode))
def test_every_node_ships_a_default_with_both_sections(node):
    assert "default" in variants(node)
    prompt = load_prompt(node)
    assert prompt.system.template and "$problem" in prompt.user.template


@pytest.mark.parametrize("node", get_args(LatmPromptNode))
def test_every_latm_node_ships_a_default_that_shows_its_input(node):
    prompt = load_prompt(node)
    shown = {"propose": "$examples", "fix": "$failures", "verify": "$examples", "write_call": "$card",
             "repair_call": "$failure", "dispatch": "$options"}  # fmt: skip
    assert prompt.system.template and shown[node] in prompt.user.template


def test_the_agent_prompt_shows_the_tools_found_and_the_question():
    prompt = load_prompt("agent")
    assert "$found" in prompt.system.template and "$question" in prompt.user.template


def test_a_variant_can_be_a_file_of_ones_own(tmp_path):
    path = tmp_path / "terse.md"
    path.write_text("## system\nBe brief.\n\n## user\nSolve: $problem costs $$5")
    system, user = load_prompt("create", str(path)).render(problem="x")
    assert (system, user) == ("Be brief.", "Solve: x costs $5")


def test_unknown_variant_lists_the_shipped_ones():
    with pytest.raises(
        PromptError, match=r"no prompt variant 'nope' for node 'create'; shipped: \['default'"
    ):
        load_prompt("create", "nope")


def test_missing_value_is_named():
    with pytest.raises(PromptError, match="needs a value for 'table'"):
        load_prompt("create").render(problem="x")


def test_file_without_sections_is_rejected(tmp_path):
    path = tmp_path / "bad.md"
    path.write_text("Just text $problem")
    with pytest.raises(PromptError, match="needs a '## system' and a '## user' section"):
        load_prompt("create", str(path))


def test_a_variant_can_be_the_prompts_text_itself_and_records_name_it_by_its_hash():
    text = "## system\nBe brief.\n\n## user\nSolve: $problem"
    prompt = load_prompt("create", text)
    assert prompt.render(problem="x") == ("Be brief.", "Solve: x")
    assert prompt.name == f"create/{prompt_label(text)}" and prompt_label(text).startswith("text:")
    assert prompt_label("terse") == "terse"
    assert CreatorContext(create_prompt=text).non_default_prompts() == {"create": prompt_label(text)}


def test_a_prompt_text_without_its_sections_on_lines_of_their_own_is_rejected():
    with pytest.raises(PromptError, match="the prompt text given for 'create' needs a '## system'"):
        load_prompt("create", "Solve: $problem ## user")


def test_a_created_tool_records_the_text_variant_it_was_made_with():
    from langgraph.store.memory import InMemoryStore

    from graphs.creator import build_creator_graph
    from sandbox import SubprocessExecutor
    from tests.fakes import ScriptedModels, fenced
    from tools_registry import ToolRegistry

    text = "## system\nYou write tools.\n\n## user\nMake a tool for: $problem$table"
    tool = 'def add(a: int, b: int) -> int:\n    """a + b."""\n    return a + b\n'
    models = ScriptedModels(maker=[fenced(tool), fenced("print(add(2, 3))")])
    graph = build_creator_graph(models=models, executor=SubprocessExecutor()).compile(store=InMemoryStore())
    store = graph.store
    state = graph.invoke({"problem": "What is 2 + 3?"}, context=CreatorContext(create_prompt=text))
    assert models.maker.prompts[0][0].content == "You write tools."
    assert ToolRegistry(store).get(state["tool_id"]).provenance.prompt_variant == prompt_label(text)


@pytest.mark.parametrize(
    "node, variant",
    [
        (node, variant)
        for node in (*get_args(PromptNode), *get_args(LatmPromptNode))
        for variant in variants(node)
    ],
)
def test_every_shipped_variant_asks_only_for_the_values_its_node_gives(node, variant):
    def placeholders(prompt):
        return {
            match.group("named") or match.group("braced")
            for template in (prompt.system, prompt.user)
            for match in template.pattern.finditer(template.template)
            if match.group("named") or match.group("braced")
        }

    given = placeholders(load_prompt(node))  # the default shows what the node fills in
    assert placeholders(load_prompt(node, variant)) <= given
    rendered = load_prompt(node, variant).render(**{name: f"<{name}>" for name in given})
    assert "<problem>" in rendered[1] or node in get_args(LatmPromptNode)


def test_a_prompts_stop_section_is_sent_to_the_endpoint_and_a_prompt_without_one_sends_none():
    from nodes.common.asking import ask
    from tests.fakes import FakeOpenAIServer
    from toolmaker.models import EndpointModels
    from toolmaker.settings import EndpointSettings, Settings

    text = '## system\nBe brief.\n\n## user\nSolve: $problem$table\n\n## stop\n"\\n```\\n"\n"\\nProblem:"\n'
    assert load_prompt("program", text).render(problem="x", table="") == ("Be brief.", "Solve: x")
    with FakeOpenAIServer(["```python\nprint(1)", "plain"]) as server:
        endpoint = EndpointSettings(model="scripted", base_url=server.base_url)
        models = EndpointModels(Settings(maker=endpoint, user=endpoint))
        ask(models, CreatorContext(program_prompt=text), "program", problem="x", table="")
        ask(
            models,
            CreatorContext(),
            "rectify",
            **dict.fromkeys(("problem", "table", "tool_code", "call", "checks", "failure"), "x"),
        )
    assert server.requests[0]["stop"] == ["\n```\n", "\nProblem:"]
    assert "stop" not in server.requests[1]


@pytest.mark.parametrize("line", ["\\n```", '""', "42"])
def test_a_stop_line_that_is_no_json_string_is_rejected_with_the_form_it_needs(line):
    with pytest.raises(PromptError, match="each line of '## stop' must be a JSON string"):
        load_prompt("program", f"## system\nS\n## user\nU\n## stop\n{line}\n")


def test_every_shipped_prompt_that_asks_for_one_code_block_ends_its_reply_at_the_closing_fence():
    for node in [d.name for d in Path(prompts.__file__).parent.iterdir() if d.is_dir()]:
        for variant in variants(node):
            prompt = load_prompt(node, variant)
            if "one ```python code block" in prompt.user.template:
                assert prompt.stop == ("\n```\n",), f"{node}/{variant}"
