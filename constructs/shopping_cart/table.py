"""CartTable: the cart's DynamoDB table, and the only place that grants access to it.

The item layout is in docs/DESIGN.md ("Table items"): string ``pk``/``sk``, a NEW_AND_OLD_IMAGES stream
the totals aggregator reads, and a TTL attribute that expires abandoned lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam

from constructs import Construct

from .overrides import override_props

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
    ``expirationTime``, point-in-time recovery; or an existing table that has those.

    Keyword properties:
        removal_policy: what happens to the table when the stack is deleted (default: retained).
        deletion_protection: refuse to delete the table (default: on unless removal_policy is DESTROY).
        table_props: more ``dynamodb.Table`` keyword properties, over the defaults (``table_name``,
            ``encryption``, ``contributor_insights_enabled``...); the keys, stream and TTL attribute
            cannot be changed.
        existing_table: use this table instead of creating one (then ``table_props`` must be empty). It
            needs string ``pk``/``sk`` keys, a NEW_AND_OLD_IMAGES stream and TTL on ``expirationTime``:
            a table defined in the app is checked at synth time; an imported one
            (``Table.from_table_attributes``) must carry its ``table_stream_arn``, the rest is yours.

    Attributes: ``table``.

    A new table is this construct's ``Default`` child, so its logical id is the one a table created
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
        table_props: Mapping[str, Any] | None = None,
        existing_table: dynamodb.ITable | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if existing_table is not None:
            if table_props:
                raise ValueError("CartTable: give existing_table or table_props, not both")
            check_cart_table(existing_table)
            self.table: dynamodb.ITable = existing_table
            return
        defaults = {
            "partition_key": dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            "sort_key": dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            "billing_mode": dynamodb.BillingMode.PAY_PER_REQUEST,
            "stream": dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            "time_to_live_attribute": TTL_ATTRIBUTE,
            "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            "removal_policy": removal_policy,
            "deletion_protection": (
                removal_policy != RemovalPolicy.DESTROY
                if deletion_protection is None
                else deletion_protection
            ),
        }
        props = override_props(
            defaults,
            table_props,
            owner="table_props",
            fixed=("partition_key", "sort_key", "stream", "time_to_live_attribute"),
        )
        self.table = dynamodb.Table(self, "Default", **props)

    def grant(self, grantee: iam.IGrantable, access: str) -> None:
        """``TABLE_ACCESS[access]`` on the table (see :func:`grant_table_access`)."""
        grant_table_access(self.table, grantee, access)

    def grant_read_totals(self, grantee: iam.IGrantable) -> None:
        """Read the per-product totals (one Query on ``pk = totals``, or a GetItem) and nothing else."""
        grant_read(self.table, grantee, TOTALS_KEYS)

    def grant_read_cart_lines(self, grantee: iam.IGrantable) -> None:
        """Read the cart lines of every cart (anonymous and signed-in), not the totals."""
        grant_read(self.table, grantee, CART_LINE_KEYS)


def grant_read(table: dynamodb.ITable, grantee: iam.IGrantable, keys: tuple[str, ...]) -> None:
    """GetItem and Query on the items whose partition key matches one of ``keys``."""
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:Query"],
            resources=[table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": list(keys)}},
        )
    )


def check_cart_table(table: dynamodb.ITable) -> None:
    """Fail at synth time on what the runtime needs and ``table`` lacks, as far as it can be known."""
    if not table.table_stream_arn:
        raise ValueError(
            "existing_table has no stream ARN: the totals aggregator reads its NEW_AND_OLD_IMAGES stream "
            "(an imported table: Table.from_table_attributes(..., table_stream_arn=...))"
        )
    cfn = table.node.default_child
    if not isinstance(cfn, dynamodb.CfnTable):
        return  # imported (or a TableV2): its keys, stream view and TTL are not known here
    stack = Stack.of(cfn)
    keys = {key["keyType"]: key["attributeName"] for key in stack.resolve(cfn.key_schema)}
    types = {a["attributeName"]: a["attributeType"] for a in stack.resolve(cfn.attribute_definitions)}
    stream = stack.resolve(cfn.stream_specification) or {}
    ttl = stack.resolve(cfn.time_to_live_specification) or {}
    errors = []
    if keys != {"HASH": "pk", "RANGE": "sk"} or types.get("pk") != "S" or types.get("sk") != "S":
        errors.append("needs a string partition key pk and a string sort key sk")
    if stream.get("streamViewType") != "NEW_AND_OLD_IMAGES":
        errors.append("needs a NEW_AND_OLD_IMAGES stream (the totals aggregator reads both images)")
    if not ttl.get("enabled") or ttl.get("attributeName") != TTL_ATTRIBUTE:
        errors.append(f"needs TTL on {TTL_ATTRIBUTE} (abandoned lines expire)")
    if errors:
        raise ValueError(f"existing_table {table.node.path}: " + "; ".join(errors))


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
