"""Loaders and graders on the real dataset records (tests marked ``datasets`` read them)."""

import json
import re

import pytest

from evaluation.datasets import (
    BBH_TASKS,
    load_bbh,
    load_creation_challenge,
    load_items,
    load_math,
    load_tabmwp,
    load_tool_transfer,
    sample,
)
from nodes.common.grading import (
    choice_letter,
    extract_number,
    grade_answer,
    grade_bbh,
    grade_choice,
    grade_math,
    grade_numeric,
    grade_rounded,
)
from toolmaker.datasets import DatasetError
from tools_registry import tool_from_source


@pytest.fixture(scope="module")
def math_sets():
    return load_math("numeric"), {item["question"]: item["answer"] for item in load_math("full")}


@pytest.mark.datasets
def test_sizes_match_the_provenance_notes(math_sets):
    numeric, full = math_sets
    assert len(numeric) == 3201 and len(full) == 5000
    assert len(load_tabmwp("creator")) == 5376 and len(load_tabmwp("1000")) == 1000
    assert len(load_creation_challenge()) == 2047
    groups = load_tool_transfer()
    assert len(groups) == 100 and all(len(group["scenarios"]) == 3 for group in groups)
    for task in BBH_TASKS:
        assert (len(load_bbh(task, "train")), len(load_bbh(task, "valid")), len(load_bbh(task))) == (
            5,
            5,
            240,
        )


@pytest.mark.datasets
def test_every_numeric_math_answer_equals_its_latex_answer_in_the_full_set(math_sets):
    numeric, full = math_sets
    assert all(grade_math(item["answer"], full[item["question"]]) for item in numeric)


@pytest.mark.datasets
def test_the_math_grader_is_not_lenient_on_other_problems_answers(math_sets):
    numeric, full = math_sets
    pairs = list(zip(numeric, numeric[1:], strict=False))
    accepted = [grade_math(a["answer"], full[b["question"]]) for a, b in pairs]
    literally_equal = [a["answer"] == b["answer"] for a, b in pairs]
    assert accepted == literally_equal


@pytest.mark.parametrize(
    ("prediction", "gold", "expected"),
    [
        ("\\frac{1}{2}", "\\frac12", True),
        ("0.5", "\\dfrac{1}{2}", True),
        ("2\\sqrt{2}", "\\sqrt{8}", True),
        ("k = 15", "15", True),
        ("30^\\circ", "30", True),
        ("\\pi", "3.14", False),
        ("7", "8", False),
        (None, "8", False),
    ],
)
def test_latex_equivalence(prediction, gold, expected):
    assert grade_math(prediction, gold) is expected


def test_numeric_grading_tolerates_rounding_not_wrong_answers():
    assert extract_number("$1,157.63") == 1157.63 and extract_number("3/4") == 0.75
    assert grade_numeric("1157.6250000000002", "1157.63")
    assert not grade_numeric("36", "180") and not grade_numeric("no idea", "1")
    assert extract_number("-\\dfrac{3}{4}") == -0.75 and grade_numeric("\\frac{1}{8}", "0.125")


@pytest.mark.datasets
def test_creation_challenge_golds_are_rounded_to_two_places_and_graded_so():
    items = load_creation_challenge()
    monty, seven = items[993], items[1377]
    assert "three doors" in monty["question"] and monty["answer"] == "0.33"
    assert grade_rounded(str(1 / 3), monty["answer"]) and not grade_numeric(str(1 / 3), monty["answer"])
    assert not grade_rounded("2/3", monty["answer"])  # the chance of the other door
    assert "rolling a total of 7" in seven["question"] and grade_rounded(str(1 / 6), seven["answer"])
    assert not grade_rounded("0.18", seven["answer"]) and not grade_rounded(None, seven["answer"])
    assert grade_rounded("30", "30") and not grade_rounded("30.01", "30")


@pytest.mark.datasets
def test_tabmwp_items_carry_their_tables():
    item = load_tabmwp("1000")[0]
    assert item["table"].startswith("Name:") and item["answer"] == "2" and item["level"].startswith("grade")


@pytest.mark.datasets
def test_creation_challenge_hint_levels_add_text():
    none, utility, full = (load_creation_challenge(h)[0]["question"] for h in ("none", "utility", "all"))
    assert len(none) < len(utility) < len(full) and "Hint" not in none


@pytest.mark.datasets
def test_tool_transfer_reference_tools_are_tools():
    group = load_tool_transfer()[0]
    assert tool_from_source(group["reference_tool"])["name"] == "calculate_optimal_units"


@pytest.mark.datasets
def test_bbh_targets_on_the_real_records():
    dyck = load_bbh("dyck_languages")[0]
    assert " " not in dyck["question"] and " " not in dyck["answer"]
    meetings = load_bbh("schedule_meeting")
    constant = sum(grade_bbh("No time slot works.", item["answer"], "schedule_meeting") for item in meetings)
    assert 0.35 < constant / len(meetings) < 0.5  # the constant baseline LATM's numbers hide


def test_bbh_normalisation():
    assert grade_bbh("] ]", "]]", "dyck_languages")
    assert grade_bbh("apple  Banana.", "apple banana", "word_sorting")
    assert grade_bbh("beth, kenya", "beth kenya", "word_sorting")  # the words in order, however separated
    assert not grade_bbh("kenya, beth", "beth kenya", "word_sorting")
    assert grade_choice("The answer is (B).", "(B)") and not grade_choice("(A)", "(B)")
    assert grade_bbh("B", "(B)", "logical_deduction_five_objects")


@pytest.mark.parametrize(
    "answer, letter",
    [
        ("Patrick", "(A)"),  # the option's text, as tools and chains of thought often give it
        ("green present.", "(C)"),
        ('"A ball"', "(D)"),  # an option may start with a word that looks like a letter
        ("(B)", "(B)"),  # a letter is kept as it is written
        ("B", "B"),
        ("(B) Sam", "(B) Sam"),
        ("Bob", "Bob"),  # no option
        ("Sam", "(B)"),
    ],
)
def test_an_answer_naming_one_option_is_given_as_its_letter(answer, letter):
    question = "At the end, Alice has\nOptions:\n(A) Patrick\n(B) Sam\n(C) green present\n(D) A ball"
    assert choice_letter(answer, question) == letter
    assert choice_letter("Patrick", "Options:\n(A) Patrick\n(B) Patrick") == "Patrick"  # ambiguous
    assert choice_letter("Patrick", "Who dances with Alice?") == "Patrick"


def test_sampling_is_deterministic_and_keeps_file_order():
    items = [f"item {index}" for index in range(1000)]
    first, again, other = sample(items, 30, seed=1), sample(items, 30, seed=1), sample(items, 30, seed=2)
    assert first == again and first != other and len(first) == 30
    positions = [items.index(item) for item in first]
    assert positions == sorted(positions)


def test_own_items_are_read_from_jsonl_with_defaults_for_what_a_line_leaves_out(tmp_path):
    path = tmp_path / "shop.jsonl"
    pens = {"id": "shop/pens", "question": "How much are 2 pens?", "table": "item | price\npen | $1.50",
            "answer": 3.0, "level": "easy"}  # fmt: skip
    dearest = {"question": "Which item is dearest?", "answer": "Notebook"}
    path.write_text(json.dumps(pens) + "\n\n" + json.dumps(dearest) + "\n")
    first, second = load_items(path)
    assert first == pens | {"answer": "3", "meta": {}}
    assert second == dearest | {"id": "shop/3", "table": "", "level": "", "meta": {}}  # blank lines count


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("{not json", "not JSON"),
        ('["a list"]', "expected an object with question and answer"),
        ('{"question": "Q?"}', "answer must be text or a number, not None"),
        ('{"question": "Q?", "answer": true}', "answer must be text or a number, not True"),
        ('{"answer": "1"}', "expected text for question"),
        ('{"question": "Q?", "answer": "1", "table": 5, "id": 7}', "expected text for table, id"),
        ('{"question": "Q?", "answer": "1", "id": "own/1"}', "the id 'own/1' is also that of line 1"),
    ],
)
def test_a_malformed_line_of_own_items_is_an_error_naming_the_file_and_line(tmp_path, line, error):
    path = tmp_path / "own.jsonl"
    path.write_text('{"question": "How much?", "answer": "2"}\n' + line + "\n")
    with pytest.raises(DatasetError, match="^" + re.escape(f"{path}, line 2: {error}")):
        load_items(path)


def test_a_missing_items_file_is_a_dataset_error(tmp_path):
    with pytest.raises(DatasetError, match="cannot read the items file"):
        load_items(tmp_path / "absent.jsonl")


def test_own_items_are_graded_as_numbers_when_the_gold_is_one_else_as_text():
    assert grade_answer("3.0", "3") and grade_answer("The total is $1,157.63", "1157.63")
    assert grade_answer("0.75", "3/4") and not grade_answer("4", "3")
    assert grade_answer("  notebook. ", "Notebook") and not grade_answer("note book", "Notebook")
    # A gold that merely contains a number is text: the number alone is not the answer.
    assert not grade_answer("66", "Route 66") and grade_answer("route  66", "Route 66")
    assert not grade_answer(None, "Notebook") and not grade_answer(None, "3")
