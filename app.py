"""The CDK app: AuthStack, ProductMockStack and ShoppingCartStack, wired by cross-stack references.

``cdk synth`` runs this file (cdk.json: ``.venv/bin/python app.py``); tests and the local stack call
:func:`build_app` to synthesize in-process. cdk-nag's AwsSolutions checks run on every synth: an
unacknowledged finding fails it.

Settings live in cdk.json under the ``shopping-cart`` context key. Any of them can be overridden by a
flat context key of the same name, on the command line (``cdk synth -c totalsBatchingWindowSeconds=1``)
or in the ``context`` passed to :func:`build_app`; flat keys win over the ``shopping-cart`` object.

=============================  =====================  ===============================================
key                            default                meaning
=============================  =====================  ===============================================
stackPrefix                    ``ShoppingCart``       stacks are ``{prefix}-Auth``, ``{prefix}-ProductMock``
                                                      and ``{prefix}-Cart``
allowedOrigins                 ``[]``                 CORS origins (credentials allowed): a JSON list,
                                                      or a comma-separated string on the command line
anonymousCartTtlDays           ``1``                  TTL of anonymous cart lines (and the cookie)
userCartTtlDays                ``7``                  TTL of signed-in cart lines
totalsBatchSize                ``100``                aggregator: records per batch
totalsBatchingWindowSeconds    ``60``                 aggregator: maximum batching window (0..300)
adminGroup                     ``admin``              Cognito group allowed to read totals
maxQuantity                    ``1000``               bound on quantities
removalPolicy                  ``retain``             ``retain`` or ``destroy``: table, user pool, logs
logRetentionDays               ``30``                 retention of every log group (a CloudWatch value)
enablePasswordAuth             ``false``              also allow USER_PASSWORD_AUTH on the web client
=============================  =====================  ===============================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App, Duration, RemovalPolicy, Tags, Validations
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks

from stacks import AuthStack, ProductMockStack, ShoppingCartStack

CONTEXT_NAMESPACE = "shopping-cart"
CDK_JSON = Path(__file__).resolve().parent / "cdk.json"

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
        return settings

    @property
    def removal(self) -> RemovalPolicy:
        return _REMOVAL[self.removal_policy]

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _RETENTION[self.log_retention_days]


_KEYS = (
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


def build_app(context: Mapping[str, Any] | None = None, *, outdir: str | None = None) -> App:
    """Create the app and its stacks (not yet synthesized).

    ``context`` is layered over cdk.json's context (the CLI's own context, when run by ``cdk``, wins
    over both). Pass ``{"aws:cdk:bundling-stacks": []}`` to skip building the dependencies layer.
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
    )
    products = ProductMockStack(
        app,
        f"{prefix}-ProductMock",
        allowed_origins=settings.allowed_origins,
        log_retention=settings.log_retention,
        removal_policy=settings.removal,
        # API Gateway's CloudWatch role is one per account and region: this stack sets it, and the
        # cart stack (deployed after it, see add_dependency below) relies on it.
        cloud_watch_role=True,
    )
    cart = ShoppingCartStack(
        app,
        f"{prefix}-Cart",
        user_pool=auth.auth.user_pool,
        user_pool_client=auth.auth.user_pool_client,
        product_service_url=products.product_mock.api_url,
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
    )
    cart.add_stack_dependency(products, "the product mock sets API Gateway's account-level CloudWatch role")

    Tags.of(app).add("project", "serverless-shopping-cart")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


if __name__ == "__main__":
    build_app().synth()
