"""Snapshot of each stack's template, asset hashes normalised (editing handler code changes nothing).

After an intended infrastructure change: ``.venv/bin/python -m pytest tests/infra/test_snapshots.py
--snapshot-update`` and review the diff.
"""

from __future__ import annotations

import pytest
from infra_helpers import Synthesized, normalise
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

STACKS = [
    "ShoppingCart-Auth",
    "ShoppingCart-Operations",
    "ShoppingCart-ProductMock",
    "ShoppingCart-Cart",
    "ShoppingCart-Frontend",
]


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("stack", STACKS)
def test_template_snapshot(synth: Synthesized, snapshot_json: SnapshotAssertion, stack: str) -> None:
    assert normalise(synth.json[stack]) == snapshot_json


def test_normalise_hides_asset_hashes() -> None:
    key = "0123456789abcdef" * 4
    template = {"Resources": {"F": {"Properties": {"Code": {"S3Key": f"{key}.zip"}}}}}
    assert normalise(template) == {
        "Resources": {"F": {"Properties": {"Code": {"S3Key": "<asset-hash>.zip"}}}}
    }
