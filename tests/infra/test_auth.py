"""Auth as the app deploys it: user pool, web client, admin group, outputs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template
from infra_helpers import Synthesized, only

from shopping_cart import Auth


@pytest.fixture(scope="module")
def auth(synth: Synthesized) -> dict[str, Any]:
    return synth.by_suffix("-Auth")[1]


@pytest.fixture(scope="module")
def template(synth: Synthesized) -> Template:
    return synth.templates[synth.by_suffix("-Auth")[0]]


def test_user_pool_sign_up_and_sign_in(template: Template) -> None:
    template.resource_count_is("AWS::Cognito::UserPool", 1)
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": False},
            "Schema": Match.array_with([Match.object_like({"Name": "email", "Required": True})]),
            "VerificationMessageTemplate": Match.object_like({"DefaultEmailOption": "CONFIRM_WITH_CODE"}),
            "AccountRecoverySetting": {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        },
    )


def test_password_policy_is_strong(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "Policies": {
                "PasswordPolicy": {
                    "MinimumLength": 8,
                    "RequireLowercase": True,
                    "RequireUppercase": True,
                    "RequireNumbers": True,
                    "RequireSymbols": True,
                    "TemporaryPasswordValidityDays": 3,
                }
            }
        },
    )


def test_mfa_is_optional_totp(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool", {"MfaConfiguration": "OPTIONAL", "EnabledMfas": ["SOFTWARE_TOKEN_MFA"]}
    )


def test_user_pool_is_retained(template: Template) -> None:
    template.has_resource("AWS::Cognito::UserPool", {"DeletionPolicy": "Retain"})


def test_web_client_srp_and_refresh_without_secret(auth: dict[str, Any]) -> None:
    props = only(auth, "AWS::Cognito::UserPoolClient")[1]["Properties"]
    assert props["GenerateSecret"] is False
    assert props["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert props["RefreshTokenValidity"] == 30 * 24 * 60
    assert props["TokenValidityUnits"]["RefreshToken"] == "minutes"
    assert props["IdTokenValidity"] == 60
    assert props["EnableTokenRevocation"] is True
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["AllowedOAuthFlowsUserPoolClient"] is False


def test_admin_group(auth: dict[str, Any]) -> None:
    pool = only(auth, "AWS::Cognito::UserPool")[0]
    props = only(auth, "AWS::Cognito::UserPoolGroup")[1]["Properties"]
    assert props["GroupName"] == "admin"
    assert props["UserPoolId"] == {"Ref": pool}


def test_outputs(auth: dict[str, Any]) -> None:
    outputs = auth["Outputs"]
    assert outputs["Region"]["Value"] == {"Ref": "AWS::Region"}
    assert outputs["UserPoolId"]["Value"] == {"Ref": only(auth, "AWS::Cognito::UserPool")[0]}
    assert outputs["UserPoolClientId"]["Value"] == {"Ref": only(auth, "AWS::Cognito::UserPoolClient")[0]}


def test_attributes() -> None:
    app = App()
    auth = Auth(Stack(app, "S"), "Auth", admin_group="staff")
    assert auth.admin_group_name == "staff"
    assert auth.user_pool.node.id == "UserPool"
    assert auth.user_pool_client.node.id == "WebClient"
    assert auth.admin_group.node.id == "AdminGroup"


def test_weak_password_length_is_rejected() -> None:
    with pytest.raises(ValueError, match="password_min_length"):
        Auth(Stack(App(), "S"), "Auth", password_min_length=6)
