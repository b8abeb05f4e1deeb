"""Session fixtures: each app is built and synthesized once (jsii is slow), then only read."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks
from infra_helpers import (
    ALARM_EMAIL,
    CERTIFICATE_ARN,
    CLOUDFRONT_WEB_ACL_ARN,
    SHOP_DOMAIN,
    SHOP_ORIGIN,
    SKIP_BUNDLING,
    WEB_ACL_ARN,
    Synthesized,
    write_storefront,
)

from app import build_app
from shopping_cart import ApiWebAcl, Auth, Frontend, ProductMock, ShoppingCart, create_alarm_topic, functions


@pytest.fixture(scope="session")
def storefront(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small stand-in for frontend/dist, so the infra tests never depend on a storefront build."""
    return write_storefront(tmp_path_factory.mktemp("storefront"))


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory, storefront: Path) -> Synthesized:
    """The app exactly as ``cdk synth`` builds it from cdk.json (bundling skipped; the storefront a
    fixture folder instead of frontend/dist)."""
    outdir = tmp_path_factory.mktemp("cdk-default")
    context = {**SKIP_BUNDLING, "frontendPath": str(storefront)}
    return Synthesized.of(build_app(context, outdir=str(outdir)), outdir)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with the local stack's CORS origins (local/synth.py), without the storefront."""
    from local.synth import LOCAL_ALLOWED_ORIGINS

    outdir = tmp_path_factory.mktemp("cdk-dev")
    context = {**SKIP_BUNDLING, "frontendPath": "", "allowedOrigins": LOCAL_ALLOWED_ORIGINS}
    return Synthesized.of(build_app(context, outdir=str(outdir)), outdir)


@pytest.fixture(scope="session")
def overridden(tmp_path_factory: pytest.TempPathFactory, storefront: Path) -> Synthesized:
    """The app with flat ``-c key=value`` style overrides (strings, as the CLI passes them)."""
    outdir = tmp_path_factory.mktemp("cdk-overridden")
    context = {
        **SKIP_BUNDLING,
        "frontendPath": str(storefront),
        "alarmEmail": ALARM_EMAIL,
        "enableWaf": "false",
        "stackPrefix": "Test",
        "totalsBatchingWindowSeconds": "1",
        "totalsBatchSize": "10",
        "removalPolicy": "destroy",
        "allowedOrigins": SHOP_ORIGIN,
        "adminGroup": "shop-admins",
        "anonymousCartTtlDays": "2",
        "userCartTtlDays": "14",
        "maxQuantity": "99",
        "logRetentionDays": "7",
        "enablePasswordAuth": "true",
    }
    return Synthesized.of(build_app(context, outdir=str(outdir)), outdir)


def _fake_runtime(root: Path) -> Path:
    """A runtime/ tree with every kind of file the assets must keep or drop."""
    files = {
        "__init__.py": "",
        "requirements.txt": "PyJWT[crypto]==2.15.1\n",
        "cart/__init__.py": "",
        "cart/api.py": "def handler(event, context):\n    return {}\n",
        "cart/aggregator.py": "def handler(event, context):\n    return None\n",
        "cart/delete_worker.py": "def handler(event, context):\n    return {}\n",
        "cart/__pycache__/api.cpython-313.pyc": "",
        "cart/tests/test_api.py": "",
        "products/__init__.py": "",
        "products/api.py": "def handler(event, context):\n    return {}\n",
        "products/catalogue.json": "[]",
        "tests/test_everything.py": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture(scope="session")
def custom(tmp_path_factory: pytest.TempPathFactory, storefront: Path) -> Synthesized:
    """The constructs embedded with non-default props, over a fake runtime tree: Auth, ProductMock,
    ShoppingCart and ApiWebAcl in ONE stack ("Embedded"), Frontend in a second one ("EmbeddedShop")."""
    outdir = tmp_path_factory.mktemp("cdk-custom")
    runtime = _fake_runtime(tmp_path_factory.mktemp("runtime"))
    with pytest.MonkeyPatch.context() as patch:
        # Assets are staged when the functions are created, so the patch is only needed while building.
        patch.setattr(functions, "runtime_root", lambda: runtime)
        app = App(context=SKIP_BUNDLING, outdir=str(outdir))
        stack = Stack(app, "Embedded")
        auth = Auth(
            stack,
            "Auth",
            admin_group="shop-admins",
            enable_password_auth=True,
            password_min_length=12,
            removal_policy=RemovalPolicy.DESTROY,
        )
        web_acl = ApiWebAcl(
            stack,
            "WebAcl",
            rate_limit=500,
            rate_limit_window=60,
            log_retention=logs.RetentionDays.ONE_WEEK,
            removal_policy=RemovalPolicy.DESTROY,
            name="shop-apis",
        )
        topic = create_alarm_topic(stack, "Alarms", email=ALARM_EMAIL)
        ProductMock(
            stack,
            "Products",
            allowed_origins=[SHOP_ORIGIN],
            removal_policy=RemovalPolicy.DESTROY,
            log_retention=logs.RetentionDays.ONE_WEEK,
            cloud_watch_role=False,
            web_acl_arn=web_acl.arn,
            monitoring=False,
        )
        cart = ShoppingCart(
            stack,
            "Cart",
            user_pool=auth.user_pool,
            user_pool_client=auth.user_pool_client,
            product_service_url="https://products.example.com/v1/",
            allowed_origins=[SHOP_ORIGIN],
            anonymous_cart_ttl=Duration.hours(2),
            user_cart_ttl=Duration.days(30),
            totals_batch_size=25,
            totals_batching_window=Duration.seconds(5),
            totals_retry_attempts=3,
            totals_max_record_age=Duration.hours(1),
            delete_batch_size=5,
            delete_max_concurrency=7,
            delete_max_receive_count=3,
            admin_group="shop-admins",
            max_quantity=50,
            product_cache_ttl=Duration.seconds(30),
            product_service_timeout=Duration.seconds(2),
            removal_policy=RemovalPolicy.DESTROY,
            log_retention=logs.RetentionDays.ONE_WEEK,
            log_level="DEBUG",
            stage_name="v1",
            throttling_rate_limit=10,
            throttling_burst_limit=20,
            web_acl_arn=WEB_ACL_ARN,
            deletion_protection=True,
            alarm_topic=topic,
            iterator_age_alarm_threshold=Duration.minutes(2),
            server_error_alarm_threshold=5,
            dashboard_name="shop-cart",
        )
        shop = Stack(app, "EmbeddedShop")
        Frontend(
            shop,
            "Shop",
            asset_path=storefront,
            cart_api_url=cart.api_url,
            product_api_url="https://products.example.com/v1/",
            user_pool=auth.user_pool,
            user_pool_client=auth.user_pool_client,
            product_paths=("/product*",),
            region="eu-west-1",
            extra_config={"shopName": "Test shop"},
            connect_sources=["https://metrics.example.com"],
            domain_names=[SHOP_DOMAIN],
            certificate=acm.Certificate.from_certificate_arn(shop, "Certificate", CERTIFICATE_ARN),
            web_acl_id=CLOUDFRONT_WEB_ACL_ARN,
            geo_restriction=cloudfront.GeoRestriction.allowlist("US", "CA"),
            price_class=cloudfront.PriceClass.PRICE_CLASS_ALL,
            removal_policy=RemovalPolicy.DESTROY,
            log_retention=logs.RetentionDays.ONE_WEEK,
            access_logs=False,
            hsts_max_age=Duration.days(365),
        )
        Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        return Synthesized.of(app, outdir)
