"""The CDK app: Auth, Operations, ProductMock, Cart and Frontend stacks, wired by cross-stack references.

``cdk synth`` runs this file (cdk.json: ``.venv/bin/python app.py``); tests and the local stack call
:func:`build_app` to synthesize in-process. cdk-nag's AwsSolutions checks run on every synth: an
unacknowledged finding fails it.

Settings live in cdk.json under the ``shopping-cart`` context key. Any of them can be overridden by a
flat context key of the same name, on the command line (``cdk synth -c totalsBatchingWindowSeconds=1``)
or in the ``context`` passed to :func:`build_app`; flat keys win over the ``shopping-cart`` object.
Each key is defined once, with its type, default, meaning and bounds, in ``runtime/shared/config.py``
(``APP``); the README's configuration table is that list (a test compares them).

Partitions: the app deploys to the ``aws`` partition only (Cognito user pool features, CloudFront
Functions and origin access control are missing elsewhere). A stack given a concrete region of another
partition (``cn-*``, ``us-gov-*``, ``us-iso*``) fails at synth.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, RemovalPolicy, Tags, Token, Validations
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from shopping_cart.runtime.shared import config
from stacks import AuthStack, FrontendStack, OperationsStack, ProductMockStack, ShoppingCartStack

CONTEXT_NAMESPACE = "shopping-cart"
APP_DIR = Path(__file__).resolve().parent
CDK_JSON = APP_DIR / "cdk.json"

#: CDK's names of CloudWatch Logs' retention choices (config.LOG_RETENTION_DAYS, a test compares them).
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
}
_REMOVAL = {"retain": RemovalPolicy.RETAIN, "destroy": RemovalPolicy.DESTROY}
#: AWS requires at least this much unreserved concurrency in an account (Lambda quotas).
MINIMUM_UNRESERVED_CONCURRENCY = 100
#: Regions outside the ``aws`` partition start with these.
_OTHER_PARTITION_REGIONS = ("cn-", "us-gov-", "us-iso", "eu-isoe-")
#: The context keys, as shared.config defines them.
_KEYS = tuple(config.APP)
_RESERVATIONS = (
    "cart_api_reserved_concurrency",
    "product_api_reserved_concurrency",
    "totals_aggregator_reserved_concurrency",
    "delete_worker_reserved_concurrency",
)


class _SettingsMethods:
    """What the app derives from its settings; the fields are ``Settings``'."""

    @classmethod
    def from_app(cls, app: App) -> Any:
        """The settings from the app's context: a flat key wins over the same key in the namespace."""
        namespaced = dict(app.node.try_get_context(CONTEXT_NAMESPACE) or {})
        unknown = sorted(set(namespaced) - set(config.APP))
        if unknown:
            raise ValueError(f"unknown keys in context {CONTEXT_NAMESPACE!r}: {', '.join(unknown)}")
        values = {}
        for key, setting in config.APP.items():
            flat = app.node.try_get_context(key)
            try:
                values[setting.attribute] = setting.parse(flat if flat is not None else namespaced.get(key))
            except config.SettingError as error:
                raise ValueError(f"context {error}") from None
        settings = cls(**values)
        settings._check_concurrency()
        return settings

    def _check_concurrency(self) -> None:
        reserved = self.reserved_concurrency_total
        limit: int = getattr(self, "account_concurrency_limit")  # noqa: B009 - a generated field
        if reserved and limit - reserved < MINIMUM_UNRESERVED_CONCURRENCY:
            raise ValueError(
                f"the functions reserve {reserved} of accountConcurrencyLimit {limit}: "
                f"AWS requires at least {MINIMUM_UNRESERVED_CONCURRENCY} unreserved. Lower the "
                "*ReservedConcurrency settings (0 reserves nothing), or raise accountConcurrencyLimit "
                "to your account's quota (Service Quotas: Lambda concurrent executions)."
            )

    @property
    def reserved_concurrency_total(self) -> int:
        return sum(getattr(self, name) for name in _RESERVATIONS)

    @property
    def frontend_dir(self) -> Path | None:
        """The built storefront's folder, or None when the frontend stack is turned off."""
        frontend_path: str = getattr(self, "frontend_path")  # noqa: B009 - a generated field
        if not frontend_path:
            return None
        path = Path(frontend_path)
        return path if path.is_absolute() else APP_DIR / path

    @property
    def removal(self) -> RemovalPolicy:
        return _REMOVAL[getattr(self, "removal_policy")]  # noqa: B009 - a generated field

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[getattr(self, "log_retention_days")]  # noqa: B009 - a generated field


#: The app's settings: one field per context key of ``config.APP`` (``maxQuantity``: ``max_quantity``),
#: defaulting to its default; built by :meth:`from_app`.
Settings = dataclasses.make_dataclass(
    "Settings",
    [(s.attribute, Any, dataclasses.field(default=s.default)) for s in config.APP.values()],
    bases=(_SettingsMethods,),
    frozen=True,
)


def _cdk_json_context() -> dict[str, Any]:
    """cdk.json's context, so an in-process synth sees the same settings and feature flags as the CLI."""
    try:
        return dict(json.loads(CDK_JSON.read_text())["context"])
    except (OSError, KeyError, ValueError):
        return {}


def build_app(
    context: Mapping[str, Any] | None = None, *, outdir: str | None = None, checks: bool = True
) -> App:
    """Create the app and its stacks (not yet synthesized).

    ``context`` is layered over cdk.json's context (the CLI's own context, when run by ``cdk``, wins
    over both). Pass ``{"aws:cdk:bundling-stacks": []}`` to skip building the dependencies layer.
    ``checks=False`` leaves cdk-nag out (the integration test app, whose assertion stack is CDK's).
    """
    app = App(context={**_cdk_json_context(), **(context or {})}, outdir=outdir)
    settings = Settings.from_app(app)
    auth, operations = _auth_and_operations(app, settings)
    products = _products(app, settings, operations)
    cart = _cart(app, settings, auth, operations, products)
    _frontend(app, settings, auth, operations, products, cart)
    if not settings.ses_from_address:
        print(
            "warning: Cognito sends sign-up codes and password resets with its default email sender, "
            "limited to about 50 emails a day: set sesFromAddress (and sesRegion) to use Amazon SES.",
            file=sys.stderr,
        )
    _refuse_other_partitions(app)
    Tags.of(app).add("project", "serverless-shopping-cart")
    if checks:
        Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    return app


def _auth_and_operations(app: App, settings: Any) -> tuple[AuthStack, OperationsStack]:
    auth = AuthStack(
        app,
        f"{settings.stack_prefix}-Auth",
        admin_group=settings.admin_group,
        enable_password_auth=settings.enable_password_auth,
        removal_policy=settings.removal,
        ses_from_address=settings.ses_from_address or None,
        ses_from_name=settings.ses_from_name or None,
        ses_region=settings.ses_region or None,
        ses_configuration_set=settings.ses_configuration_set or None,
    )
    operations = OperationsStack(
        app,
        f"{settings.stack_prefix}-Operations",
        alarm_email=settings.alarm_email or None,
        web_acl=settings.enable_waf,
        rate_limit=settings.waf_rate_limit,
        log_retention=settings.log_retention,
        removal_policy=settings.removal,
    )
    return auth, operations


def _web_acl_arn(operations: OperationsStack) -> str | None:
    return operations.web_acl.arn if operations.web_acl else None


def _products(app: App, settings: Any, operations: OperationsStack) -> ProductMockStack:
    return ProductMockStack(
        app,
        f"{settings.stack_prefix}-ProductMock",
        allowed_origins=settings.allowed_origins,
        log_retention=settings.log_retention,
        removal_policy=settings.removal,
        # API Gateway's CloudWatch role is one per account and region: this stack sets it, and the
        # cart stack (deployed after it, see add_stack_dependency in _cart) relies on it.
        cloud_watch_role=True,
        web_acl_arn=_web_acl_arn(operations),
        alarm_topic=operations.alarm_topic,
        reserved_concurrency=settings.product_api_reserved_concurrency,
        powertools_layer_arn=settings.powertools_layer_arn or None,
    )


def _cart(
    app: App, settings: Any, auth: AuthStack, operations: OperationsStack, products: ProductMockStack
) -> ShoppingCartStack:
    cart = ShoppingCartStack(
        app,
        f"{settings.stack_prefix}-Cart",
        user_pool=auth.auth.user_pool,
        user_pool_client=auth.auth.user_pool_client,
        # The service route: AWS_IAM (SigV4) and outside the web ACL's shopper rate rules.
        product_service_url=products.product_mock.internal_url,
        product_service_invoke_arn=products.product_mock.internal_invoke_arn,
        allowed_origins=settings.allowed_origins,
        anonymous_cart_ttl=Duration.days(settings.anonymous_cart_ttl_days),
        user_cart_ttl=Duration.days(settings.user_cart_ttl_days),
        totals_batch_size=settings.totals_batch_size,
        totals_batching_window=Duration.seconds(settings.totals_batching_window_seconds),
        admin_group=settings.admin_group,
        max_quantity=settings.max_quantity,
        removal_policy=settings.removal,
        log_retention=settings.log_retention,
        cloud_watch_role=False,
        web_acl_arn=_web_acl_arn(operations),
        alarm_topic=operations.alarm_topic,
        api_reserved_concurrency=settings.cart_api_reserved_concurrency,
        aggregator_reserved_concurrency=settings.totals_aggregator_reserved_concurrency,
        delete_worker_reserved_concurrency=settings.delete_worker_reserved_concurrency,
        powertools_layer_arn=settings.powertools_layer_arn or None,
    )
    cart.add_stack_dependency(products, "the product mock sets API Gateway's account-level CloudWatch role")
    return cart


def _frontend(
    app: App,
    settings: Any,
    auth: AuthStack,
    operations: OperationsStack,
    products: ProductMockStack,
    cart: ShoppingCartStack,
) -> None:
    """The Frontend stack, when the storefront is built (a warning otherwise)."""
    frontend_dir = settings.frontend_dir
    if frontend_dir is None:
        return
    if not (frontend_dir / "index.html").is_file():
        print(
            f"warning: {frontend_dir} has no index.html, so the {settings.stack_prefix}-Frontend stack is "
            "left out. Build the storefront first (`make synth` and `make deploy` do).",
            file=sys.stderr,
        )
        return
    FrontendStack(
        app,
        f"{settings.stack_prefix}-Frontend",
        asset_path=str(frontend_dir),
        cart_api_url=cart.cart.api_url,
        product_api_url=products.product_mock.api_url,
        user_pool=auth.auth.user_pool,
        user_pool_client=auth.auth.user_pool_client,
        max_quantity=settings.max_quantity,
        removal_policy=settings.removal,
        log_retention=settings.log_retention,
        access_log_retention=Duration.days(settings.log_retention_days),
        origin_verify_secret=operations.web_acl.origin_verify_secret if operations.web_acl else None,
    )


def _refuse_other_partitions(app: App) -> None:
    """The shop needs services of the ``aws`` partition only; a concrete region elsewhere is refused."""
    from aws_cdk import Stack

    for child in app.node.children:
        concrete = isinstance(child, Stack) and not Token.is_unresolved(child.region)
        if concrete and child.region.startswith(_OTHER_PARTITION_REGIONS):
            raise ValueError(
                f"{child.stack_name}: region {child.region} is outside the aws partition; the shop uses "
                "Cognito user pool features, CloudFront Functions and origin access control, which "
                'the other partitions lack (cdk.json @aws-cdk/core:target-partitions is ["aws"]).'
            )


if __name__ == "__main__":
    build_app().synth()
