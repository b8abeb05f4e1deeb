"""cdk-nag (AwsSolutions) runs on every synth; every finding is fixed or acknowledged with a reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aws_cdk import Validations
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from infra_helpers import SKIP_BUNDLING, Synthesized

from app import build_app

FINEST_ID = re.compile(r"^(AwsSolutions-[A-Z]+[0-9]+|Serverless-[A-Za-z0-9]+)(\[[A-Za-z]+::.+\])?$")
NEEDS_FINDING = ("AwsSolutions-IAM4", "AwsSolutions-IAM5")


def _violations(synthesized: Synthesized) -> list[str]:
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    return [
        f"{violation.rule_name} at {resource.construct_path}: {violation.description}"
        for violation in report.violations
        for resource in violation.violating_resources
    ]


@pytest.mark.parametrize("fixture", ["synth", "overridden", "custom"])
def test_no_unacknowledged_findings(fixture: str, request: pytest.FixtureRequest) -> None:
    assert _violations(request.getfixturevalue(fixture)) == []


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    app = build_app(SKIP_BUNDLING, outdir=str(tmp_path))
    # A queue without a DLQ and without enforced SSL.
    sqs.Queue(app.node.find_child("ShoppingCart-Cart"), "Careless")
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    for rule in ("AwsSolutions-SQS3", "AwsSolutions-SQS4"):
        assert f"{rule}'" in str(failure.value)
    assert "ShoppingCart-Cart/Careless/Resource" in str(failure.value)


def test_acknowledgments_name_the_finest_finding_and_give_a_reason(synth: Synthesized) -> None:
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledged = [
        (construct.node.path, rule_id.removeprefix("Annotation::"), reason)
        for construct in synth.app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule_id, reason in entry.data.items()
    ]
    assert acknowledged
    for path, rule_id, reason in acknowledged:
        assert FINEST_ID.match(rule_id), (path, rule_id)
        if rule_id.startswith(NEEDS_FINDING):
            assert "[" in rule_id, f"{path}: {rule_id} must name the finding"
        assert len(reason) >= 60, (path, rule_id, reason)
    # Nothing is acknowledged for a whole stack or app: each sits on the construct it is about.
    assert all(path.count("/") >= 2 for path, _, _ in acknowledged)
