"""The README as a reader uses it: its Python snippets, run in order as one program (each continues the
app of the ones before), synthesize; its layout section and docs/DESIGN.md's name what the repo holds."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def _python_snippets(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, re.S | re.M)


@pytest.mark.slow
def test_the_readme_snippets_run_as_written(tmp_path: Path) -> None:
    snippets = _python_snippets(README)
    assert len(snippets) >= 2
    program = tmp_path / "readme_app.py"
    # A snippet may end with app.synth() and a later one add to the app: synthesize again at the end, so
    # that what every snippet adds is in the assembly (and validated) too.
    program.write_text("\n".join([*snippets, "app.synth(force=True)\n"]))
    assembly = tmp_path / "cdk.out"
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "CDK_CONTEXT_JSON")}
    # As `cdk synth` would run the app: the CLI hands it its output folder and context this way.
    env["CDK_OUTDIR"] = str(assembly)
    env["CDK_CONTEXT_JSON"] = json.dumps({"aws:cdk:bundling-stacks": []})
    # From the repo root, where the snippets' relative paths (frontend/dist) point.
    result = subprocess.run(
        [sys.executable, str(program)], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    [template_path] = assembly.glob("Shop.template.json")
    types = {resource["Type"] for resource in json.loads(template_path.read_text())["Resources"].values()}
    # Something of every construct the snippets use.
    assert {
        "AWS::Cognito::UserPool",
        "AWS::DynamoDB::Table",
        "AWS::Lambda::Function",
        "AWS::WAFv2::WebACL",
        "AWS::SNS::Topic",
        "AWS::CloudFront::Distribution",
    } <= types


def _layout(markdown: str, heading: str) -> str:
    section = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("    "))


def _entries(layout: str) -> list[str]:
    """The layout's top-level entries, each with its continuation lines (indented past the names)."""
    entries: list[str] = []
    for line in layout.splitlines():
        if line[4:5] != " ":
            entries.append(line.strip())
        elif entries:
            entries[-1] += " " + line.strip()
    return entries


def _tracked_top_level_folders() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {path.split("/", 1)[0] for path in listed if "/" in path and not path.startswith(".")}


@pytest.mark.parametrize(
    ("document", "heading"), [("README.md", "## Project layout"), ("docs/DESIGN.md", "## Layout")]
)
def test_the_layout_sections_name_what_the_repo_holds(document: str, heading: str) -> None:
    layout = _layout((REPO / document).read_text(), heading)
    assert layout, f"{document} has a layout block under {heading}"
    folders = _tracked_top_level_folders()
    assert {folder for folder in folders if f"{folder}/" not in layout} == set()
    stack_sources = "".join(path.read_text() for path in (REPO / "stacks").glob("*.py"))
    stacks = set(re.findall(r"^class (\w+Stack)\b", stack_sources, re.M))
    assert stacks
    assert {stack for stack in stacks if not re.search(rf"\b{stack}\b", layout)} == set()
    test_suites = {path.parent.name for path in (REPO / "tests").glob("*/test_*.py")}
    [described] = [entry for entry in _entries(layout) if entry.startswith("tests/")]
    assert {suite for suite in test_suites if not re.search(rf"\b{suite}\b", described)} == set()
