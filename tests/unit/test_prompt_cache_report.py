import json

from benchmarks.prompt_cache import report


def test_the_comparison_times_only_problems_whose_replies_were_the_same(tmp_path):
    def write(stem, rows):
        (tmp_path / f"{stem}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))

    def row(problem, answer, seconds, output_tokens=10):
        tokens = {"maker": {"input": 100, "output": output_tokens, "calls": 2}}
        return {"id": problem, "answer": answer, "correct": answer == "1", "seconds": seconds,
                "tokens": tokens}  # fmt: skip

    write("on", [row("a", "1", 10.0), row("b", "2", 5.0)])
    write("off", [row("a", "1", 11.0), row("b", "2", 9.0, output_tokens=12)])
    write("off-again", [row("a", "1", 30.0), row("b", "2", 9.0, output_tokens=12)])

    text = report(tmp_path)

    assert "| a | yes | yes | 10.0 | 11.0 |" in text and "| b | no | yes | 5.0 | 9.0 |" in text
    assert "same reply with the cache on and off: 1 of 2" in text and "off twice: 2 of 2" in text
    assert "seconds of the 1 problems with the same reply: on 10.0, off 11.0 (+10.0%)" in text
