"""A fixed list of small problems written for this project, with checked answers.

They are our own (no third-party data), cover arithmetic, number theory, combinatorics,
word problems and a table, and are small enough for the embedded model.
"""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict


class Problem(TypedDict):
    """One benchmark problem with its gold answer."""

    id: str
    problem: str
    answer: float
    table: NotRequired[str]


PROBLEMS: list[Problem] = [
    {"id": "digits-2-100", "problem": "What is the sum of the digits of 2**100?", "answer": 115},
    {"id": "primes-below-100", "problem": "How many prime numbers are there below 100?", "answer": 25},
    {
        "id": "compound-interest",
        "problem": "A deposit of $1000 earns 5% interest per year, compounded yearly. "
        "How many dollars is it worth after 3 years? Round to the nearest cent.",
        "answer": 1157.63,
    },
    {
        "id": "gcd-lcm",
        "problem": "What is the least common multiple of 12, 18 and 30?",
        "answer": 180,
    },
    {
        "id": "choose",
        "problem": "In how many ways can a committee of 3 people be chosen from 10 people?",
        "answer": 120,
    },
    {
        "id": "triangle-area",
        "problem": "What is the area of a triangle with sides 13, 14 and 15?",
        "answer": 84,
    },
    {
        "id": "fibonacci",
        "problem": "What is the 20th Fibonacci number, if the first two are 1 and 1?",
        "answer": 6765,
    },
    {
        "id": "divisors",
        "problem": "How many positive divisors does 360 have?",
        "answer": 24,
    },
    {
        "id": "speed",
        "problem": "A train travels 180 km in 2 hours and then 120 km in 1.5 hours. "
        "What is its average speed in km/h over the whole trip?",
        "answer": 85.71428571428571,
    },
    {
        "id": "modular-power",
        "problem": "What is the remainder when 3**200 is divided by 7?",
        "answer": 2,
    },
    {
        "id": "quadratic-roots",
        "problem": "What is the sum of the squares of the roots of x**2 - 7x + 10 = 0?",
        "answer": 29,
    },
    {
        "id": "table-difference",
        "problem": "How many more books were sold on Saturday than on Monday?",
        "table": "Day | Books sold\nMonday | 38\nTuesday | 45\nFriday | 52\nSaturday | 91",
        "answer": 53,
    },
]
