"""The integration test app synthesizes without an account and matches its snapshot.

``make integ`` deploys it (integ-runner); here it is only synthesized, so a change that breaks it (or
changes what it deploys) shows in ``make test``. After an intended change: ``.venv/bin/python -m pytest
tests/integ --snapshot-update`` and review the diff.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.infra.infra_helpers import SKIP_BUNDLING, normalise

HERE = Path(__file__).resolve().parent
INTEG_APPS = sorted(HERE.glob("integ_*.py"))


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem.replace(".", "_"), path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=INTEG_APPS, ids=[p.name for p in INTEG_APPS])
def assembly(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    outdir = tmp_path_factory.mktemp("integ")
    _load(request.param).build(SKIP_BUNDLING, outdir=str(outdir)).synth()
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in outdir.glob("*.template.json")
    }


def _unsalted(value: Any) -> Any:
    """The assertion resources carry a ``salt`` (the synth time) so that they run on every deploy."""
    if isinstance(value, dict):
        return {k: "<salt>" if k == "salt" else _unsalted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsalted(item) for item in value]
    return value


def test_the_integ_app_matches_its_snapshot(assembly: dict[str, Any], snapshot: SnapshotAssertion) -> None:
    assert {name: _unsalted(normalise(t)) for name, t in sorted(assembly.items())} == snapshot.use_extension(
        JSONSnapshotExtension
    )


def test_the_assertions_cover_the_journey(assembly: dict[str, Any]) -> None:
    """Each end-to-end check is an assertion of the deploy-assert stack, on the probe's answer."""
    [assertions] = [t for name, t in assembly.items() if "DeployAssert" in name]
    steps = [
        json.loads(json.loads(r["Properties"]["parameters"]["Payload"]))["step"]
        for r in assertions["Resources"].values()
        if r["Type"] == "Custom::DeployAssert@SdkCallLambdainvoke"
    ]
    assert sorted(steps) == ["alarm", "journey", "storefront", "totals"]
    probe = next(t for name, t in assembly.items() if name.endswith("-Probe"))
    assert any(r["Type"] == "AWS::SQS::Queue" for r in probe["Resources"].values())
