"""An app outside the repo, with the built wheel installed in a fresh virtualenv, brings its own table
and sets the functions' memory: it gets no table of ours and 1024 MB functions."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from test_packaging import REPO, _pins, _run, wheel  # noqa: F401 - wheel is a fixture

EMBEDDING_APP = textwrap.dedent(
    """
    import json
    import sys

    from aws_cdk import App, Stack
    from aws_cdk import aws_dynamodb as dynamodb

    import shopping_cart
    from shopping_cart import Auth, ShoppingCart

    app = App(context={"aws:cdk:bundling-stacks": []}, outdir=sys.argv[1])
    stack = Stack(app, "Shop")
    carts = dynamodb.Table(
        stack,
        "MyCarts",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        time_to_live_attribute="expirationTime",
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
    )
    auth = Auth(stack, "Auth")
    cart = ShoppingCart(
        stack,
        "Cart",
        user_pool=auth.user_pool,
        user_pool_client=auth.user_pool_client,
        product_service_url="https://products.example.com",
        allowed_origins=["https://shop.example.com"],
        existing_table=carts,
        function_props={"memory_size": 1024},
    )
    app.synth()
    print(json.dumps({"package": shopping_cart.__file__, "table": stack.get_logical_id(carts.node.default_child)}))
    """
)


@pytest.mark.slow
def test_an_embedding_app_brings_its_table_and_sets_the_memory(wheel: Path, tmp_path: Path) -> None:  # noqa: F811
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "-c",
            str(REPO / "constraints.txt"),
            str(wheel),
            *_pins(),
        ],
        cwd=tmp_path,
    )
    app_dir = tmp_path / "shop"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(EMBEDDING_APP)
    printed = json.loads(
        _run([str(python), "app.py", str(app_dir / "cdk.out")], cwd=app_dir).strip().splitlines()[-1]
    )
    assert venv in Path(printed["package"]).parents, (
        "shopping_cart was not imported from the fresh virtualenv"
    )

    template = json.loads((app_dir / "cdk.out" / "Shop.template.json").read_text())
    tables = [i for i, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table"]
    assert tables == [printed["table"]], "the cart created a table of its own"
    functions = {
        r["Properties"]["Handler"]: r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert {h: p["MemorySize"] for h, p in functions.items()} == {
        "cart.api.handler": 1024,
        "cart.aggregator.handler": 1024,
        "cart.delete_worker.handler": 1024,
    }
    for handler, props in functions.items():
        assert props["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": printed["table"]}, handler
