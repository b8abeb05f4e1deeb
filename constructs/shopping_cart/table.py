"""CartTable: the cart's DynamoDB table, and the only place that grants access to it.

The item layout is in docs/DESIGN.md ("Table items"): string ``pk``/``sk``, a NEW_AND_OLD_IMAGES stream
the totals aggregator reads, and a TTL attribute that expires abandoned lines.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

from constructs import Construct

TTL_ATTRIBUTE = "expirationTime"

#: Partition keys each function writes (docs/DESIGN.md, "Table items"), as dynamodb:LeadingKeys
#: patterns: cart lines of anonymous (``cart#``) and signed-in (``user#``) carts, the totals, the
#: aggregator's batch markers.
CART_LINE_KEYS = ("cart#*", "user#*")
ANONYMOUS_LINE_KEYS = ("cart#*",)
TOTALS_KEYS = ("totals",)
MARKER_KEYS = ("aggregator#*",)

#: Exactly the DynamoDB actions each function's code calls on the table, and on which partition keys
#: it may write. A TransactWriteItems is authorized action by action (PutItem, UpdateItem, DeleteItem,
#: ConditionCheckItem). tests/infra/test_least_privilege.py derives the actions from runtime/ (an AST
#: scan of each handler's code) and fails when this table and the code differ: a new call in runtime/
#: needs its action here, with the keys it writes.
TABLE_ACCESS: dict[str, dict[str, tuple[str, ...] | dict[str, tuple[str, ...]]]] = {
    "api": {
        "reads": ("dynamodb:GetItem", "dynamodb:Query"),
        "writes": {
            "dynamodb:PutItem": CART_LINE_KEYS,
            "dynamodb:UpdateItem": CART_LINE_KEYS,
            "dynamodb:DeleteItem": CART_LINE_KEYS,
        },
    },
    "aggregator": {
        "reads": (),
        "writes": {"dynamodb:UpdateItem": TOTALS_KEYS, "dynamodb:PutItem": MARKER_KEYS},
    },
    "delete_worker": {"reads": (), "writes": {"dynamodb:DeleteItem": ANONYMOUS_LINE_KEYS}},
}


class CartTable(Construct):
    """The cart table: string ``pk``/``sk``, on demand, NEW_AND_OLD_IMAGES stream, TTL on
    ``expirationTime``, point-in-time recovery.

    Keyword properties:
        removal_policy: what happens to the table when the stack is deleted (default: retained).
        deletion_protection: refuse to delete the table (default: on unless removal_policy is DESTROY).

    Attributes: ``table``.

    The table is this construct's ``Default`` child, so its logical id is the one a table created
    directly in the same scope under this construct's id would have: wrapping an existing table of
    :class:`shopping_cart.ShoppingCart` in a ``CartTable`` does not replace it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        deletion_protection: bool | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table: dynamodb.ITable = dynamodb.Table(
            self,
            "Default",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute=TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal_policy,
            deletion_protection=(
                removal_policy != RemovalPolicy.DESTROY
                if deletion_protection is None
                else deletion_protection
            ),
        )

    def grant(self, grantee: iam.IGrantable, access: str) -> None:
        """``TABLE_ACCESS[access]`` on the table (see :func:`grant_table_access`)."""
        grant_table_access(self.table, grantee, access)


def grant_table_access(table: dynamodb.ITable, grantee: iam.IGrantable, access: str) -> None:
    """``TABLE_ACCESS[access]`` on ``table``: its reads, and each write on its partition keys only.

    The statements go to the grantee's own policy (a function's role: its DefaultPolicy).
    """
    principal = grantee.grant_principal
    reads = TABLE_ACCESS[access]["reads"]
    if reads:
        principal.add_to_principal_policy(
            iam.PolicyStatement(actions=list(reads), resources=[table.table_arn])
        )
    writes = TABLE_ACCESS[access]["writes"]
    assert isinstance(writes, dict)
    by_keys: dict[tuple[str, ...], list[str]] = {}
    for action, keys in writes.items():
        by_keys.setdefault(keys, []).append(action)
    for keys, actions in by_keys.items():
        principal.add_to_principal_policy(
            iam.PolicyStatement(
                actions=sorted(actions),
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(keys)}},
            )
        )
