import logging
import multiprocessing
from pathlib import Path

import pytest
from langgraph.store.memory import InMemoryStore

from tools_registry import (
    Demo,
    Provenance,
    ToolRecord,
    ToolRegistry,
    VerifiedExample,
    sqlite_registry,
    tool_from_source,
)
from tools_registry.analysis import argument_schema, content_hash

DIGIT_SUM = '''
def digit_sum(n: int) -> int:
    """Sum of the decimal digits of a non-negative integer."""
    return sum(int(c) for c in str(n))
'''
SAME_CODE_OTHER_WORDS = '''
def digit_sum(n: int) -> int:
    """Adds up the digits."""
    # one digit at a time
    return sum(int(c)   for c in str(n))
'''
BASE_DIGIT_SUM = '''
def digit_sum(n: int, base: int = 10) -> int:
    """Sum of the digits of n written in the given base."""
    total = 0
    while n:
        total, n = total + n % base, n // base
    return total
'''
INTEREST = '''
def compound_interest(principal: float, rate: float, years: int, *, per_year: int = 1) -> float:
    """Value of a deposit after compound interest: principal, yearly rate, number of years."""
    return principal * (1 + rate / per_year) ** (per_year * years)
'''


@pytest.fixture
def registry():
    return ToolRegistry(InMemoryStore())


def test_argument_schema_from_the_signature_without_importing():
    schema = argument_schema(INTEREST, "compound_interest")
    assert schema["required"] == ["principal", "rate", "years"]
    assert schema["properties"]["principal"]["type"] == "number"
    assert schema["properties"]["years"]["type"] == "integer"
    assert schema["properties"]["per_year"] == {"type": "integer", "title": "per_year", "default": 1}


def test_formatting_comments_and_docstrings_do_not_change_identity():
    assert content_hash(DIGIT_SUM) == content_hash(SAME_CODE_OTHER_WORDS)
    assert content_hash(DIGIT_SUM) != content_hash(BASE_DIGIT_SUM)


def test_same_code_is_one_tool_whose_creations_are_counted(registry):
    first = registry.add(tool_from_source(DIGIT_SUM), provenance=Provenance(problem="2**100?", model="m"))
    again = registry.add(tool_from_source(SAME_CODE_OTHER_WORDS))
    assert again.id == first.id and len(registry.tools()) == 1
    assert registry.stats(first.id).created == 2
    assert registry.get(first.id).provenance.problem == "2**100?"


def test_changed_implementation_is_a_new_version_with_lineage(registry):
    first = registry.add(tool_from_source(DIGIT_SUM))
    second = registry.add(tool_from_source(BASE_DIGIT_SUM))
    assert (first.version, second.version) == (1, 2)
    assert second.previous == first.id
    assert registry.get("digit_sum").id == second.id
    assert registry.get("digit_sum", version=1).source == first.source


def test_a_restored_record_is_the_same_tool_found_the_same_way_without_its_counters(registry):
    first = registry.add(tool_from_source(DIGIT_SUM), provenance=Provenance(problem="2**100?"))
    second = registry.add(tool_from_source(BASE_DIGIT_SUM))
    registry.record_use(second.id, ok=True)
    kept = [record.model_dump(mode="json") for record in (second, first)]  # e.g. in a results row

    elsewhere = ToolRegistry(InMemoryStore())
    for row in kept:
        elsewhere.restore(ToolRecord.model_validate(row))
    assert elsewhere.tools() == registry.tools()
    assert elsewhere.get("digit_sum").id == second.id  # the later version stays the head
    assert (
        elsewhere.search("sum of digits in a base")[0][0].id
        == registry.search("sum of digits in a base")[0][0].id
    )
    assert elsewhere.stats(second.id).uses == 0 and registry.stats(second.id).uses == 1


def test_record_keeps_demos_verification_and_tags(registry):
    record = registry.add(
        tool_from_source(DIGIT_SUM),
        demos=[Demo(call="digit_sum(2 ** 100)", output="115")],
        verification=[VerifiedExample(call="digit_sum(12)", expected="3", output="3", passed=True)],
        tags=["math", "math"],
    )
    stored = registry.get(record.id)
    assert stored.demos[0].output == "115" and stored.passed_verification and stored.tags == ["math"]


def test_uses_and_failures_are_counted(registry):
    record = registry.add(tool_from_source(DIGIT_SUM))
    registry.record_use(record.id, ok=True)
    registry.record_use(record.id, ok=False)
    assert registry.stats(record.id).model_dump() == {"created": 1, "uses": 2, "failures": 1}


def test_search_scores_the_matching_tool_first(registry):
    registry.add(tool_from_source(DIGIT_SUM))
    registry.add(tool_from_source(INTEREST))
    (best, score), *rest = registry.search("What is a $1000 deposit worth after 3 years at 5% interest?")
    assert best.name == "compound_interest" and 0 < score <= 1
    assert all(other_score < score for _, other_score in rest)
    assert registry.search("sum of the digits of 2**100")[0][0].name == "digit_sum"
    assert registry.search("zebra giraffe") == []


def test_remove_one_version_or_all(registry):
    registry.add(tool_from_source(DIGIT_SUM))
    registry.add(tool_from_source(BASE_DIGIT_SUM))
    assert registry.remove("digit_sum", version=1) == 1
    assert [r.version for r in registry.tools("digit_sum")] == [2]
    assert registry.remove("digit_sum") == 1 and registry.tools() == []


def test_corrupt_rows_are_skipped_with_a_warning(tmp_path, caplog):
    with sqlite_registry(tmp_path / "tools.sqlite") as registry:
        good = registry.add(tool_from_source(DIGIT_SUM))
        insert = "INSERT INTO store(prefix, key, value) VALUES ('toolmaker.tools', ?, ?)"
        registry.store.conn.execute(insert, ("broken@json", "{not json"))
        registry.store.conn.execute(insert, ("broken@schema", '{"name": 3}'))
        with caplog.at_level(logging.WARNING):
            assert [record.id for record in registry.tools()] == [good.id]
        assert "broken@json" in caplog.text and "broken@schema" in caplog.text
        assert registry.search("digits")[0][0].id == good.id


def test_sqlite_registry_survives_reopening(tmp_path):
    path = tmp_path / "tools.sqlite"
    with sqlite_registry(path) as registry:
        record = registry.add(tool_from_source(DIGIT_SUM))
    with sqlite_registry(path) as registry:
        assert registry.get("digit_sum").id == record.id


def _write_many(path: str, worker: int, writes: int) -> None:
    with sqlite_registry(Path(path)) as registry:
        for index in range(writes):
            code = (
                f'def tool_{worker}_{index}(x: int) -> int:\n    """Add {index}."""\n    return x + {index}\n'
            )
            record = registry.add(tool_from_source(code))
            registry.record_use(record.id, ok=True)


def test_eight_processes_writing_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "tools.sqlite")
    with sqlite_registry(Path(path)):
        pass
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(path, worker, 50)) for worker in range(8)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [process.exitcode for process in workers] == [0] * 8
    with sqlite_registry(Path(path)) as registry:
        records = registry.tools()
        assert len(records) == 400
        assert sum(registry.stats(record.id).uses for record in records[:20]) == 20
