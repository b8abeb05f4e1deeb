"""An upgrade replaces no stateful resource: their logical ids are those of the deployed releases.

CloudFormation replaces a resource whose logical id changes: a new table (the carts gone), a new user
pool (every shopper's account gone), new queues (waiting messages gone), a new stream mapping (it
starts again at TRIM_HORIZON and counts up to a day of records into the totals a second time), a new
REST API (a new URL, which the Frontend stack imports: the deploy fails). The ids below are the ones
the released templates carry; a refactoring of the constructs must keep them.
"""

from __future__ import annotations

import hashlib

import pytest
from infra_helpers import Synthesized

KEPT = {
    "ShoppingCart-Cart": {
        "ShoppingCartTable08D7EB37": "AWS::DynamoDB::Table",
        "ShoppingCartDeleteQueue7855D21C": "AWS::SQS::Queue",
        "ShoppingCartDeleteDeadLetterQueueFC97E170": "AWS::SQS::Queue",
        "ShoppingCartTotalsFailureQueueA8D9509D": "AWS::SQS::Queue",
        "ShoppingCartAggregatorFunctionB76F2964": "AWS::Lambda::Function",
        "ShoppingCartAggregatorFunctionDynamoDBEventSourceShoppingCartCartShoppingCartTableE28BD9510BD988B3": (
            "AWS::Lambda::EventSourceMapping"
        ),
        "ShoppingCartApiB5A43E90": "AWS::ApiGateway::RestApi",
        "ShoppingCartApiDeploymentStageprodD5D20968": "AWS::ApiGateway::Stage",
    },
    "ShoppingCart-Auth": {
        "AuthUserPool8115E87F": "AWS::Cognito::UserPool",
        "AuthUserPoolWebClient147E4E38": "AWS::Cognito::UserPoolClient",
        "AuthAdminGroupE034CF06": "AWS::Cognito::UserPoolGroup",
    },
}


@pytest.mark.parametrize("stack", sorted(KEPT))
def test_stateful_resources_keep_their_logical_ids(synth: Synthesized, stack: str) -> None:
    resources = synth.json[stack]["Resources"]
    assert {logical_id: resources.get(logical_id, {}).get("Type") for logical_id in KEPT[stack]} == KEPT[
        stack
    ]


def _released_id(*path: str) -> str:
    """The logical id CloudFormation knew a resource at ``path`` (inside its stack) by: CDK's
    readable part (no ``Resource``) and the first 8 hex digits of the path's MD5."""
    digest = hashlib.md5("/".join(path).encode()).hexdigest()[:8].upper()
    return "".join(part for part in path if part != "Resource") + digest


def test_the_released_ids_are_those_of_the_released_paths() -> None:
    assert _released_id("ShoppingCart", "Table", "Resource") == "ShoppingCartTable08D7EB37"
    assert _released_id("Auth", "UserPool", "Resource") == "AuthUserPool8115E87F"


@pytest.mark.parametrize(
    ("path", "resource_type"),
    [
        (("Cart", "Table", "Resource"), "AWS::DynamoDB::Table"),
        (("Cart", "DeleteQueue", "Resource"), "AWS::SQS::Queue"),
        (("Cart", "DeleteDeadLetterQueue", "Resource"), "AWS::SQS::Queue"),
        (("Cart", "TotalsFailureQueue", "Resource"), "AWS::SQS::Queue"),
        (("Cart", "AggregatorFunction", "Resource"), "AWS::Lambda::Function"),
        (("Cart", "Api", "Resource"), "AWS::ApiGateway::RestApi"),
        (("Auth", "UserPool", "Resource"), "AWS::Cognito::UserPool"),
    ],
)
def test_an_embedded_cart_keeps_them_under_its_own_id(
    custom: Synthesized, path: tuple[str, ...], resource_type: str
) -> None:
    # "Cart" in the stack "Embedded": the parts' main resources are their Default children, which CDK
    # leaves out of the path it derives logical ids from.
    resources = custom.json["Embedded"]["Resources"]
    assert resources[_released_id(*path)]["Type"] == resource_type
