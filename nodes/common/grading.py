"""Graders: numeric (with tolerance, or at two decimals), LaTeX equivalence, exact match for Big-Bench.

Each grader takes the method's final answer (not everything it printed: the reference
CREATOR grader accepted any number printed, which marks wrong answers right).
"""

from __future__ import annotations

import math
import re
from tokenize import TokenError

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication_application,
    parse_expr,
    standard_transformations,
)

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")
_LATEX_FRACTION = re.compile(r"^(-?)\\[dt]?frac\{(-?\d+(?:\.\d+)?)\}\{(\d+(?:\.\d+)?)\}$")
_TRANSFORMS = (*standard_transformations, implicit_multiplication_application, convert_xor)


def _without_units(text: str) -> str:
    cleaned = text.replace("$", "").replace("\\%", "").replace("%", "").strip()
    return _LATEX_FRACTION.sub(r"\1\2/\3", cleaned)


def _fraction(cleaned: str) -> float | None:
    fraction = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)", cleaned)
    if fraction and float(fraction.group(2)) != 0:
        return float(fraction.group(1)) / float(fraction.group(2))
    return None


def extract_number(text: str | None) -> float | None:
    r"""The last number in an answer ("$1,157.63" → 1157.63, "3/4" and "\frac{3}{4}" → 0.75), or None."""
    if not text:
        return None
    cleaned = _without_units(text)
    if (ratio := _fraction(cleaned)) is not None:
        return ratio
    numbers = _NUMBER.findall(cleaned)
    if not numbers:
        return None
    try:
        return float(numbers[-1].replace(",", ""))
    except ValueError:
        return None


def grade_numeric(prediction: str | None, gold: str, rel_tol: float = 1e-4, abs_tol: float = 1e-6) -> bool:
    """Equal as numbers within a relative tolerance (rounding differences pass)."""
    predicted, expected = extract_number(prediction), extract_number(gold)
    if predicted is None or expected is None:
        return False
    return math.isclose(predicted, expected, rel_tol=rel_tol, abs_tol=abs_tol)


def grade_rounded(prediction: str | None, gold: str, decimals: int = 2) -> bool:
    """Numeric, or equal once both are rounded to ``decimals`` places.

    For the Creation Challenge and tool-transfer sets, whose gold answers were rounded to
    two places (25π is 78.54, a probability 0.98): CREATOR's own transfer grader compares
    at two decimals, so an unrounded 0.9754 is right there too.
    """
    if grade_numeric(prediction, gold):
        return True
    predicted, expected = extract_number(prediction), extract_number(gold)
    if predicted is None or expected is None:
        return False
    return math.isclose(round(predicted, decimals), round(expected, decimals), abs_tol=10**-decimals / 100)


def _strip_latex(text: str) -> str:
    text = text.strip().strip("$").strip()
    if "\\boxed{" in text:
        text = text[text.index("\\boxed{") + 7 : text.rindex("}")]
    if "=" in text and not text.startswith(("(", "[")):
        text = text.rsplit("=", 1)[1]  # "k = 15" -> "15"
    text = re.sub(r"\\text\{\s*([^}]*)\}", r"\1", text)
    for junk in (
        "\\left",
        "\\right",
        "\\!",
        "\\,",
        "\\;",
        "\\:",
        "^\\circ",
        "^{\\circ}",
        "\\%",
        "%",
        "\\$",
        "dollars",
    ):
        text = text.replace(junk, "")
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\frac(\d)(\d)", r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\sqrt(\d+)", r"\\sqrt{\1}", text)
    return text.replace(" ", "").rstrip(".")


def _latex_to_sympy(text: str) -> sympy.Expr | None:
    expression = text
    for _ in range(10):  # nested \frac and \sqrt, innermost first
        expression = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", expression)
        expression = re.sub(r"\\sqrt\[([^\]]*)\]\{([^{}]*)\}", r"((\2)**(1/(\1)))", expression)
        expression = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", expression)
    replacements = {"\\pi": "pi", "\\cdot": "*", "\\times": "*", "{": "(", "}": ")", "\\": ""}
    for latex, python in replacements.items():
        expression = expression.replace(latex, python)
    try:
        value = parse_expr(expression, transformations=_TRANSFORMS, evaluate=True)
    except (SyntaxError, TypeError, ValueError, AttributeError, sympy.SympifyError, TokenError):
        return None
    return value if isinstance(value, sympy.Expr) else None


def grade_math(prediction: str | None, gold: str) -> bool:
    """MATH equivalence: the same normalised LaTeX, or sympy-equal values (a half = 0.5)."""
    if prediction is None:
        return False
    predicted, expected = _strip_latex(prediction), _strip_latex(gold)
    if predicted == expected:
        return True
    left, right = _latex_to_sympy(predicted), _latex_to_sympy(expected)
    if left is None or right is None:
        return False
    try:
        if left.is_number and right.is_number:
            return math.isclose(complex(left).real, complex(right).real, rel_tol=1e-6, abs_tol=1e-9) and (
                math.isclose(complex(left).imag, complex(right).imag, abs_tol=1e-9)
            )
        return bool(sympy.simplify(left - right) == 0)
    except (TypeError, ValueError):
        return False


def _normalise_text(text: str) -> str:
    return " ".join(text.strip().strip(".").split()).lower()


def grade_answer(prediction: str | None, gold: str) -> bool:
    """Numeric if the gold is a number alone ("12", "$1,157.63", "3/4"), else exact match up to spacing.

    The grader of one's own items (``bench --dataset FILE.jsonl``); case and a final full stop
    do not count either.
    """
    cleaned = _without_units(gold)
    if _fraction(cleaned) is not None or _NUMBER.fullmatch(cleaned):
        return grade_numeric(prediction, gold)
    return prediction is not None and _normalise_text(prediction) == _normalise_text(gold)


def grade_choice(prediction: str | None, gold: str) -> bool:
    """Multiple choice: the option letter, however it is written ("(B)", "B", "B) red")."""
    if prediction is None:
        return False
    wanted = gold.strip().strip("()").upper()
    text = prediction.upper()
    letters = re.findall(r"\(([A-Z])\)", text) or re.findall(r"\b([A-Z])\b", text)
    return bool(letters) and letters[-1] == wanted


_OPTION = re.compile(r"^\s*\(([A-Z])\)\s*(\S.*?)\s*$", re.M)
_LETTERED = re.compile(r"^(?:\(?[A-Z]\)|[A-Z]\.?$)")


def choice_letter(answer: str | None, question: str) -> str | None:
    """A multiple-choice answer given as an option's text ("Patrick") as that option's letter ("(A)").

    Tools and chains of thought often print the option they chose rather than its letter,
    while the gold is the letter. An answer that has a letter already, or that names no
    option or several, is kept as it is.
    """
    if answer is None or _LETTERED.match(answer.strip()):
        return answer
    wanted = _normalise_text(answer.strip().strip("'\"`"))
    letters = [letter for letter, text in _OPTION.findall(question) if _normalise_text(text) == wanted]
    return f"({letters[0]})" if len(letters) == 1 else answer


def grade_bbh(prediction: str | None, gold: str, task: str) -> bool:
    """Exact match after the documented normalisation of each Big-Bench task."""
    if prediction is None:
        return False
    if task.startswith(("logical_deduction", "tracking_shuffled_objects")):
        return grade_choice(prediction, gold)
    if task == "dyck_languages":
        return prediction.replace(" ", "").strip() == gold.replace(" ", "").strip()
    if task == "word_sorting":  # the answer is the words in order: "beth, kenya" is "beth kenya"
        return _normalise_text(prediction.replace(",", " ")) == _normalise_text(gold)
    return _normalise_text(prediction) == _normalise_text(gold)


_BBH_RULES = (
    "logical_deduction",
    "tracking_shuffled_objects",
    "dyck_languages",
    "word_sorting",
    "chinese_remainder_theorem",
    "schedule_meeting",
)
"""Big-Bench task names (and prefixes) graded by :func:`grade_bbh`."""


def grade_task(prediction: str | None, gold: str, task: str) -> bool:
    """Grade an answer of any task family: Big-Bench's own rules, else by the gold's shape.

    A family the dispatcher named has no rules of its own: option letters are compared as
    letters, numbers as numbers, anything else as normalised text.
    """
    if task.startswith(_BBH_RULES):
        return grade_bbh(prediction, gold, task)
    if re.fullmatch(r"\(?[A-Z]\)", gold.strip()):
        return grade_choice(prediction, gold)
    return grade_answer(prediction, gold)
