"""cfn-lint over every synthesized template: no errors."""

from __future__ import annotations

import pytest
from cfnlint.api import lint
from infra_helpers import Synthesized


@pytest.mark.parametrize("fixture", ["synth", "overridden", "custom"])
def test_templates_have_no_cfn_lint_errors(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    for name, stack in synthesized.stacks.items():
        text = (synthesized.outdir / stack.template_file).read_text()
        matches = lint(text, regions=["us-east-1"])
        errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.severity == "error"]
        assert errors == [], name
