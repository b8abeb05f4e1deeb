"""The construct library stays made of small pieces: no function (signature and docstring included)
longer than about 60 lines, so each constructor only composes parts that have a name of their own."""

from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = Path(__file__).resolve().parents[2] / "constructs" / "shopping_cart"
#: "About 60": a constructor's keyword signature alone can take 25 lines.
LONGEST = 65


def test_no_function_of_the_construct_library_is_longer_than_about_60_lines() -> None:
    lengths = {
        f"{path.name}:{node.lineno} {node.name}": node.end_lineno - node.lineno + 1
        for path in sorted(LIBRARY.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    }
    assert lengths
    assert {where: n for where, n in lengths.items() if n > LONGEST} == {}
