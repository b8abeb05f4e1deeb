"""The CDK app: Auth, Operations, ProductMock, Cart and Frontend stacks, wired by cross-stack references.

``cdk synth`` runs this file (cdk.json: ``.venv/bin/python app.py``); tests and the local stack call
:func:`build_app` to synthesize in-process. cdk-nag's AwsSolutions checks run on every synth: an
unacknowledged finding fails it.

Settings live in cdk.json under the ``shopping-cart`` context key. Any of them can be overridden by a
flat context key of the same name, on the command line (``cdk synth -c totalsBatchingWindowSeconds=1``)
or in the ``context`` passed to :func:`build_app`; flat keys win over the ``shopping-cart`` object.

=============================  =====================  ===============================================
key                            default                meaning
=============================  =====================  ===============================================
stackPrefix                    ``ShoppingCart``       stacks are ``{prefix}-Auth``, ``{prefix}-Operations``,
                                                      ``{prefix}-ProductMock``, ``{prefix}-Cart`` and
                                                      ``{prefix}-Frontend``
allowedOrigins                 ``[]``                 CORS origins (credentials allowed): a JSON list,
                                                      or a comma-separated string on the command line
anonymousCartTtlDays           ``1``                  TTL of anonymous cart lines (and the cookie)
userCartTtlDays                ``7``                  TTL of signed-in cart lines
totalsBatchSize                ``100``                aggregator: records per batch
totalsBatchingWindowSeconds    ``60``                 aggregator: maximum batching window (0..300)
adminGroup                     ``admin``              Cognito group allowed to read totals
maxQuantity                    ``1000``               bound on quantities
removalPolicy                  ``retain``             ``retain`` (with deletion protection on the table
                                                      and user pool) or ``destroy`` (everything goes
                                                      with the stacks: table, user pool, log groups,
                                                      buckets emptied first)
logRetentionDays               ``30``                 retention of every log group (a CloudWatch value)
enablePasswordAuth             ``false``              also allow USER_PASSWORD_AUTH on the web client
frontendPath                   ``frontend/dist``      the built storefront (relative to this file); when
                                                      it has no index.html the Frontend stack is left
                                                      out with a warning; ``""`` leaves it out silently
alarmEmail                     ``""``                 subscribe this address to the alarm topic
enableWaf                      ``true``               the REGIONAL web ACL on both API stages
wafRateLimit                   ``2000``               requests per client IP per 5 minutes before WAF
                                                      blocks (signed service calls: ten times that)
powertoolsLayerArn             ``""``                 the Powertools layer's ARN; empty: resolved from
                                                      Powertools' public SSM parameter, which is not
                                                      published in every region
sesFromAddress                 ``""``                 send Cognito's emails through SES from this
                                                      verified address; empty: Cognito's default
                                                      sender (about 50 emails a day; synth warns)
sesFromName                    ``""``                 the sender's display name
sesRegion                      ``""``                 region of the verified SES identity (required
                                                      with sesFromAddress unless the stacks have a
                                                      concrete region)
sesConfigurationSet            ``""``                 an SES configuration set for those emails
cartApiReservedConcurrency     ``100``                reserved concurrency of the cart API function
productApiReservedConcurrency  ``50``                 ... of the product mock function
totalsAggregatorReserved...    ``10``                 ``totalsAggregatorReservedConcurrency``: of the
                                                      aggregator (at least its stream's shards)
deleteWorkerReserved...        ``10``                 ``deleteWorkerReservedConcurrency``: of the delete
                                                      worker (at least its SQS maximum concurrency, 5)
accountConcurrencyLimit        ``1000``               the account's Lambda concurrency quota assumed;
                                                      synth fails unless the reservations leave at
                                                      least 100 unreserved (AWS's minimum). New accounts
                                                      may have a quota of 10: set every reservation to 0
                                                      (0 reserves nothing)
=============================  =====================  ===============================================

Partitions: the app deploys to the ``aws`` partition only (Cognito user pool features, CloudFront
Functions and origin access control are missing elsewhere). A stack given a concrete region of another
partition (``cn-*``, ``us-gov-*``, ``us-iso*``) fails at synth.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, RemovalPolicy, Tags, Token, Validations
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks, ServerlessChecks

from stacks import AuthStack, FrontendStack, OperationsStack, ProductMockStack, ShoppingCartStack

CONTEXT_NAMESPACE = "shopping-cart"
APP_DIR = Path(__file__).resolve().parent
CDK_JSON = APP_DIR / "cdk.json"

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


def _as_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"context {key}: expected an integer, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"context {key}: expected an integer, got {value!r}") from None


def _as_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"context {key}: expected true or false, got {value!r}")


def _as_origins(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    if not isinstance(value, list) or not all(isinstance(origin, str) for origin in value):
        raise ValueError(f"context {key}: expected a list of origins, got {value!r}")
    return [origin.strip().rstrip("/") for origin in value if origin.strip()]


@dataclass(frozen=True)
class Settings:
    """The app's settings, read from context (see the module docstring for the keys)."""

    stack_prefix: str = "ShoppingCart"
    allowed_origins: tuple[str, ...] = ()
    anonymous_cart_ttl_days: int = 1
    user_cart_ttl_days: int = 7
    totals_batch_size: int = 100
    totals_batching_window_seconds: int = 60
    admin_group: str = "admin"
    max_quantity: int = 1000
    removal_policy: str = "retain"
    log_retention_days: int = 30
    enable_password_auth: bool = False
    frontend_path: str = "frontend/dist"
    alarm_email: str = ""
    enable_waf: bool = True
    waf_rate_limit: int = 2000
    powertools_layer_arn: str = ""
    ses_from_address: str = ""
    ses_from_name: str = ""
    ses_region: str = ""
    ses_configuration_set: str = ""
    cart_api_reserved_concurrency: int = 100
    product_api_reserved_concurrency: int = 50
    totals_aggregator_reserved_concurrency: int = 10
    delete_worker_reserved_concurrency: int = 10
    account_concurrency_limit: int = 1000

    @classmethod
    def from_app(cls, app: App) -> Settings:
        raw = dict(app.node.try_get_context(CONTEXT_NAMESPACE) or {})
        get = _Getter(app, raw)
        settings = cls(
            stack_prefix=str(get("stackPrefix", cls.stack_prefix)),
            allowed_origins=tuple(_as_origins("allowedOrigins", get("allowedOrigins", []))),
            anonymous_cart_ttl_days=_as_int("anonymousCartTtlDays", get("anonymousCartTtlDays", 1)),
            user_cart_ttl_days=_as_int("userCartTtlDays", get("userCartTtlDays", 7)),
            totals_batch_size=_as_int("totalsBatchSize", get("totalsBatchSize", 100)),
            totals_batching_window_seconds=_as_int(
                "totalsBatchingWindowSeconds", get("totalsBatchingWindowSeconds", 60)
            ),
            admin_group=str(get("adminGroup", "admin")),
            max_quantity=_as_int("maxQuantity", get("maxQuantity", 1000)),
            removal_policy=str(get("removalPolicy", "retain")).lower(),
            log_retention_days=_as_int("logRetentionDays", get("logRetentionDays", 30)),
            enable_password_auth=_as_bool("enablePasswordAuth", get("enablePasswordAuth", False)),
            frontend_path=str(get("frontendPath", cls.frontend_path)),
            alarm_email=str(get("alarmEmail", "") or "").strip(),
            enable_waf=_as_bool("enableWaf", get("enableWaf", True)),
            waf_rate_limit=_as_int("wafRateLimit", get("wafRateLimit", 2000)),
            powertools_layer_arn=str(get("powertoolsLayerArn", "") or "").strip(),
            ses_from_address=str(get("sesFromAddress", "") or "").strip(),
            ses_from_name=str(get("sesFromName", "") or "").strip(),
            ses_region=str(get("sesRegion", "") or "").strip(),
            ses_configuration_set=str(get("sesConfigurationSet", "") or "").strip(),
            **{
                field: _as_int(key, get(key, getattr(cls, field))) for key, field in _CONCURRENCY_KEYS.items()
            },
        )
        unknown = sorted(set(raw) - set(_KEYS))
        if unknown:
            raise ValueError(f"unknown keys in context {CONTEXT_NAMESPACE!r}: {', '.join(unknown)}")
        if settings.removal_policy not in _REMOVAL:
            raise ValueError(
                f"context removalPolicy: expected retain or destroy, got {settings.removal_policy!r}"
            )
        if settings.log_retention_days not in _RETENTION:
            raise ValueError(
                f"context logRetentionDays: expected one of {sorted(_RETENTION)}, got {settings.log_retention_days}"
            )
        if not 10 <= settings.waf_rate_limit <= 2_000_000_000:
            raise ValueError(f"context wafRateLimit: expected 10..2000000000, got {settings.waf_rate_limit}")
        if settings.alarm_email and "@" not in settings.alarm_email:
            raise ValueError(f"context alarmEmail: expected an email address, got {settings.alarm_email!r}")
        if settings.ses_from_address and "@" not in settings.ses_from_address:
            raise ValueError(
                f"context sesFromAddress: expected an email address, got {settings.ses_from_address!r}"
            )
        settings._check_concurrency()
        return settings

    def _check_concurrency(self) -> None:
        for key, field in _CONCURRENCY_KEYS.items():
            if getattr(self, field) < 0:
                raise ValueError(
                    f"context {key}: expected 0 (none reserved) or more, got {getattr(self, field)}"
                )
        reserved = self.reserved_concurrency_total
        if reserved and self.account_concurrency_limit - reserved < MINIMUM_UNRESERVED_CONCURRENCY:
            raise ValueError(
                f"the functions reserve {reserved} of accountConcurrencyLimit {self.account_concurrency_limit}: "
                f"AWS requires at least {MINIMUM_UNRESERVED_CONCURRENCY} unreserved. Lower the "
                "*ReservedConcurrency settings (0 reserves nothing), or raise accountConcurrencyLimit "
                "to your account's quota (Service Quotas: Lambda concurrent executions)."
            )

    @property
    def reserved_concurrency_total(self) -> int:
        return sum(
            getattr(self, field)
            for key, field in _CONCURRENCY_KEYS.items()
            if key != "accountConcurrencyLimit"
        )

    @property
    def frontend_dir(self) -> Path | None:
        """The built storefront's folder, or None when the frontend stack is turned off."""
        if not self.frontend_path:
            return None
        path = Path(self.frontend_path)
        return path if path.is_absolute() else APP_DIR / path

    @property
    def removal(self) -> RemovalPolicy:
        return _REMOVAL[self.removal_policy]

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]


_CONCURRENCY_KEYS = {
    "cartApiReservedConcurrency": "cart_api_reserved_concurrency",
    "productApiReservedConcurrency": "product_api_reserved_concurrency",
    "totalsAggregatorReservedConcurrency": "totals_aggregator_reserved_concurrency",
    "deleteWorkerReservedConcurrency": "delete_worker_reserved_concurrency",
    "accountConcurrencyLimit": "account_concurrency_limit",
}

_KEYS = (
    *_CONCURRENCY_KEYS,
    "powertoolsLayerArn",
    "sesFromAddress",
    "sesFromName",
    "sesRegion",
    "sesConfigurationSet",
    "stackPrefix",
    "allowedOrigins",
    "anonymousCartTtlDays",
    "userCartTtlDays",
    "totalsBatchSize",
    "totalsBatchingWindowSeconds",
    "adminGroup",
    "maxQuantity",
    "removalPolicy",
    "logRetentionDays",
    "enablePasswordAuth",
    "frontendPath",
    "alarmEmail",
    "enableWaf",
    "wafRateLimit",
)


class _Getter:
    """A flat context key wins over the same key inside the namespace object."""

    def __init__(self, app: App, namespaced: Mapping[str, Any]) -> None:
        self._app = app
        self._namespaced = namespaced

    def __call__(self, key: str, default: Any) -> Any:
        flat = self._app.node.try_get_context(key)
        if flat is not None:
            return flat
        return self._namespaced.get(key, default)


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
    prefix = settings.stack_prefix

    auth = AuthStack(
        app,
        f"{prefix}-Auth",
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
        f"{prefix}-Operations",
        alarm_email=settings.alarm_email or None,
        web_acl=settings.enable_waf,
        rate_limit=settings.waf_rate_limit,
        log_retention=settings.log_retention,
        removal_policy=settings.removal,
    )
    web_acl_arn = operations.web_acl.arn if operations.web_acl else None
    products = ProductMockStack(
        app,
        f"{prefix}-ProductMock",
        allowed_origins=settings.allowed_origins,
        log_retention=settings.log_retention,
        removal_policy=settings.removal,
        # API Gateway's CloudWatch role is one per account and region: this stack sets it, and the
        # cart stack (deployed after it, see add_dependency below) relies on it.
        cloud_watch_role=True,
        web_acl_arn=web_acl_arn,
        alarm_topic=operations.alarm_topic,
        reserved_concurrency=settings.product_api_reserved_concurrency,
        powertools_layer_arn=settings.powertools_layer_arn or None,
    )
    cart = ShoppingCartStack(
        app,
        f"{prefix}-Cart",
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
        web_acl_arn=web_acl_arn,
        alarm_topic=operations.alarm_topic,
        api_reserved_concurrency=settings.cart_api_reserved_concurrency,
        aggregator_reserved_concurrency=settings.totals_aggregator_reserved_concurrency,
        delete_worker_reserved_concurrency=settings.delete_worker_reserved_concurrency,
        powertools_layer_arn=settings.powertools_layer_arn or None,
    )
    cart.add_stack_dependency(products, "the product mock sets API Gateway's account-level CloudWatch role")

    frontend_dir = settings.frontend_dir
    if frontend_dir is not None and (frontend_dir / "index.html").is_file():
        FrontendStack(
            app,
            f"{prefix}-Frontend",
            asset_path=str(frontend_dir),
            cart_api_url=cart.cart.api_url,
            product_api_url=products.product_mock.api_url,
            user_pool=auth.auth.user_pool,
            user_pool_client=auth.auth.user_pool_client,
            removal_policy=settings.removal,
            log_retention=settings.log_retention,
            access_log_retention=Duration.days(settings.log_retention_days),
            origin_verify_secret=operations.web_acl.origin_verify_secret if operations.web_acl else None,
        )
    elif frontend_dir is not None:
        print(
            f"warning: {frontend_dir} has no index.html, so the {prefix}-Frontend stack is left out. "
            "Build the storefront first (`make synth` and `make deploy` do).",
            file=sys.stderr,
        )

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
