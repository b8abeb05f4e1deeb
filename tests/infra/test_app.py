"""app.py: settings from cdk.json context, flat overrides, stack wiring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, RemovalPolicy, Stack, Token
from aws_cdk import aws_logs as logs
from infra_helpers import SHOP_ORIGIN, SKIP_BUNDLING, Synthesized, function_by_handler, only, resources

from app import _KEYS, CONTEXT_NAMESPACE, Settings, build_app

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _settings(context: dict[str, Any]) -> Settings:
    return Settings.from_app(App(context=context))


def test_cdk_json_runs_the_app_from_the_venv() -> None:
    cdk_json = json.loads(CDK_JSON.read_text())
    assert cdk_json["app"] == ".venv/bin/python app.py"
    settings = cdk_json["context"][CONTEXT_NAMESPACE]
    assert set(settings) <= set(_KEYS)
    assert settings["totalsBatchSize"] == 100
    assert settings["totalsBatchingWindowSeconds"] == 60
    assert settings["anonymousCartTtlDays"] == 1
    assert settings["userCartTtlDays"] == 7
    assert settings["removalPolicy"] in ("retain", "destroy")
    assert settings["frontendPath"] == "frontend/dist"
    assert settings["alarmEmail"] == ""
    assert settings["enableWaf"] is True
    assert settings["wafRateLimit"] == 2000


def test_defaults_without_any_context() -> None:
    settings = _settings({})
    assert settings == Settings()
    assert settings.removal == RemovalPolicy.RETAIN
    assert settings.log_retention == logs.RetentionDays.ONE_MONTH


def test_flat_keys_override_the_namespace() -> None:
    settings = _settings(
        {
            CONTEXT_NAMESPACE: {"totalsBatchingWindowSeconds": 60, "adminGroup": "admin"},
            "totalsBatchingWindowSeconds": "1",
        }
    )
    assert settings.totals_batching_window_seconds == 1
    assert settings.admin_group == "admin"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example.com", ("https://a.example.com",)),
        ("https://a.example.com/,http://localhost:8080", ("https://a.example.com", "http://localhost:8080")),
        ('["https://a.example.com"]', ("https://a.example.com",)),
        (
            ["https://a.example.com", "https://b.example.com"],
            ("https://a.example.com", "https://b.example.com"),
        ),
        ("", ()),
    ],
)
def test_allowed_origins_forms(value: Any, expected: tuple[str, ...]) -> None:
    assert _settings({"allowedOrigins": value}).allowed_origins == expected


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"removalPolicy": "snapshot"}, "removalPolicy"),
        ({"logRetentionDays": "2"}, "logRetentionDays"),
        ({"totalsBatchSize": "many"}, "totalsBatchSize"),
        ({"enablePasswordAuth": "yes"}, "enablePasswordAuth"),
        ({"enableWaf": "maybe"}, "enableWaf"),
        ({"wafRateLimit": "5"}, "wafRateLimit"),
        ({"alarmEmail": "not-an-address"}, "alarmEmail"),
        ({CONTEXT_NAMESPACE: {"batchSize": 1}}, "unknown keys"),
    ],
)
def test_invalid_settings_are_rejected(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(context)


def test_five_stacks_wired_by_references(synth: Synthesized) -> None:
    assert set(synth.stacks) == {
        "ShoppingCart-Auth",
        "ShoppingCart-Operations",
        "ShoppingCart-ProductMock",
        "ShoppingCart-Cart",
        "ShoppingCart-Frontend",
    }

    def dependencies(stack: str) -> set[str]:
        return {dependency.node.id for dependency in synth.stacks[stack].dependencies}

    assert dependencies("ShoppingCart-Cart") == {
        "ShoppingCart-Auth",
        "ShoppingCart-Operations",
        "ShoppingCart-ProductMock",
    }
    assert dependencies("ShoppingCart-ProductMock") == {"ShoppingCart-Operations"}
    assert dependencies("ShoppingCart-Operations") == set()
    assert dependencies("ShoppingCart-Frontend") == {
        "ShoppingCart-Auth",
        "ShoppingCart-Operations",
        "ShoppingCart-ProductMock",
        "ShoppingCart-Cart",
    }
    assert not resources(synth.json["ShoppingCart-Cart"], "AWS::SSM::Parameter")


def test_stacks_are_environment_agnostic(synth: Synthesized) -> None:
    for stack in synth.stacks.values():
        assert Token.is_unresolved(stack.region)
        assert Token.is_unresolved(stack.account)


def test_frontend_stack_is_left_out_when_the_storefront_is_not_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = build_app({**SKIP_BUNDLING, "frontendPath": str(tmp_path / "dist")})
    stacks = {child.node.id for child in app.node.children if isinstance(child, Stack)}
    assert "ShoppingCart-Frontend" not in stacks
    assert "ShoppingCart-Cart" in stacks
    warning = capsys.readouterr().err
    assert "ShoppingCart-Frontend stack is left out" in warning
    assert "make synth" in warning


def test_frontend_stack_can_be_turned_off_silently(capsys: pytest.CaptureFixture[str]) -> None:
    app = build_app(
        {**SKIP_BUNDLING, "frontendPath": "", "sesFromAddress": "shop@example.com", "sesRegion": "eu-west-1"}
    )
    assert app.node.try_find_child("ShoppingCart-Frontend") is None
    assert capsys.readouterr().err == ""


def test_without_ses_synth_warns_about_cognitos_daily_email_limit(capsys: pytest.CaptureFixture[str]) -> None:
    build_app({**SKIP_BUNDLING, "frontendPath": ""})
    warning = capsys.readouterr().err
    assert "about 50 emails a day" in warning
    assert "sesFromAddress" in warning


def test_ses_sends_cognitos_email_from_the_verified_address(tmp_path: Path) -> None:
    context = {
        **SKIP_BUNDLING,
        "frontendPath": "",
        "sesFromAddress": "shop@example.com",
        "sesFromName": "The Shop",
        "sesRegion": "eu-west-1",
        "sesConfigurationSet": "shop-mail",
    }
    synthesized = Synthesized.of(build_app(context, outdir=str(tmp_path)), tmp_path)
    pool = only(synthesized.json["ShoppingCart-Auth"], "AWS::Cognito::UserPool")[1]["Properties"]
    email = pool["EmailConfiguration"]
    assert email["EmailSendingAccount"] == "DEVELOPER"
    assert email["From"] == "The Shop <shop@example.com>"
    assert email["ConfigurationSet"] == "shop-mail"
    assert ":ses:eu-west-1:" in json.dumps(email["SourceArn"])
    assert "identity/shop@example.com" in json.dumps(email["SourceArn"])


def test_powertools_layer_arn_overrides_the_ssm_parameter(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:ap-southeast-5:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:20"
    context = {**SKIP_BUNDLING, "frontendPath": "", "powertoolsLayerArn": arn}
    synthesized = Synthesized.of(build_app(context, outdir=str(tmp_path)), tmp_path)
    for stack in ("ShoppingCart-Cart", "ShoppingCart-ProductMock"):
        template = synthesized.json[stack]
        assert not [
            p for p in template.get("Parameters", {}).values() if "powertools" in str(p.get("Default"))
        ]
        for function in resources(template, "AWS::Lambda::Function").values():
            assert function["Properties"]["Layers"][0] == arn


def test_frontend_path_is_relative_to_the_app() -> None:
    settings = _settings({"frontendPath": "frontend/dist"})
    assert settings.frontend_dir == CDK_JSON.parent / "frontend" / "dist"
    assert _settings({"frontendPath": "/srv/shop"}).frontend_dir == Path("/srv/shop")
    assert _settings({"frontendPath": ""}).frontend_dir is None


def test_overrides_reach_the_templates(overridden: Synthesized) -> None:
    assert set(overridden.stacks) == {
        "Test-Auth",
        "Test-Operations",
        "Test-ProductMock",
        "Test-Cart",
        "Test-Frontend",
    }
    cart = overridden.json["Test-Cart"]
    aggregator = function_by_handler(cart, "cart.aggregator.handler")[0]
    [mapping] = [
        m["Properties"]
        for m in resources(cart, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": aggregator}
    ]
    assert mapping["MaximumBatchingWindowInSeconds"] == 1
    assert mapping["BatchSize"] == 10
    env = function_by_handler(cart, "cart.api.handler")[1]["Properties"]["Environment"]["Variables"]
    assert env["ALLOWED_ORIGINS"] == SHOP_ORIGIN
    assert env["ADMIN_GROUP"] == "shop-admins"
    assert env["ANONYMOUS_CART_TTL_SECONDS"] == str(2 * 86400)
    assert env["USER_CART_TTL_SECONDS"] == str(14 * 86400)
    assert env["MAX_QUANTITY"] == "99"
    assert only(cart, "AWS::DynamoDB::Table")[1]["DeletionPolicy"] == "Delete"
    assert {g["Properties"]["RetentionInDays"] for g in resources(cart, "AWS::Logs::LogGroup").values()} == {
        7
    }
    auth = overridden.json["Test-Auth"]
    assert only(auth, "AWS::Cognito::UserPool")[1]["DeletionPolicy"] == "Delete"
    assert only(auth, "AWS::Cognito::UserPoolGroup")[1]["Properties"]["GroupName"] == "shop-admins"
    assert (
        "ALLOW_USER_PASSWORD_AUTH"
        in only(auth, "AWS::Cognito::UserPoolClient")[1]["Properties"]["ExplicitAuthFlows"]
    )
