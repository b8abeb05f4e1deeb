"""Rules AWS enforces at deploy and run time, checked over every resource of every synthesized template.

Each test states one documented AWS behaviour and fails for the next resource that breaks it:
who may publish to an alarm topic, which physical names survive a stack deletion, which layer Lambda
extracts last, what a CORS origin may be in production, which rate rule counts a request, how much
concurrency the functions reserve, and how a consumer stack sees a producer's replaced value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from infra_helpers import SKIP_BUNDLING, Synthesized, as_list, resources, walk

from app import MINIMUM_UNRESERVED_CONCURRENCY, Settings, build_app
from shopping_cart import Auth
from shopping_cart.cart import ShoppingCart

FIXTURES = ["synth", "overridden", "custom"]

#: Properties whose value must be unique in an account and region (a second resource of that name fails
#: to create), by resource type. Every retained resource type of the templates must be listed here or in
#: NO_UNIQUE_NAME, so a new kind of retained resource is classified before it ships.
UNIQUE_NAME = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::WAFv2::WebACL": "Name",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Cognito::UserPoolDomain": "Domain",
}
#: Retained types whose names CloudFormation generates or that have no account-wide unique name
#: (a user pool's name need not be unique; API Gateway's account settings are a singleton).
NO_UNIQUE_NAME = {"AWS::Cognito::UserPool", "AWS::ApiGateway::Account"}
RETAINING = {"Retain", "RetainExceptOnCreate"}


def _templates(synthesized: Synthesized) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from synthesized.json.items()


def _exports(synthesized: Synthesized) -> dict[str, tuple[str, Any]]:
    """Export name -> (producer stack, output value), over every template."""
    exports = {}
    for stack, template in _templates(synthesized):
        for output in template.get("Outputs", {}).values():
            if "Export" in output:
                exports[output["Export"]["Name"]] = (stack, output["Value"])
    return exports


def _resolve_ref(value: Any, stack: str, synthesized: Synthesized) -> tuple[str, str] | None:
    """(stack, logical id) behind a Ref, a GetAtt or an import of either."""
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        producer, exported = _exports(synthesized)[value["Fn::ImportValue"]]
        return _resolve_ref(exported, producer, synthesized)
    if isinstance(value, dict) and "Ref" in value:
        return stack, value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return stack, value["Fn::GetAtt"][0]
    return None


# --- 2. every topic an alarm notifies lets CloudWatch publish ---------------------------------------


@pytest.fixture(scope="module")
def standalone(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """A cart and a product mock embedded without alarm_topic: each Monitoring makes its own topic."""
    from aws_cdk import App, Stack

    from shopping_cart import ProductMock

    outdir = tmp_path_factory.mktemp("cdk-standalone")
    app = App(context=SKIP_BUNDLING, outdir=str(outdir))
    stack = Stack(app, "Standalone")
    auth = Auth(stack, "Auth")
    products = ProductMock(stack, "Products")
    ShoppingCart(
        stack,
        "Cart",
        user_pool=auth.user_pool,
        user_pool_client=auth.user_pool_client,
        product_service_url=products.internal_url,
        product_service_invoke_arn=products.internal_invoke_arn,
        allowed_origins=[],
    )
    return Synthesized.of(app, outdir)


def _alarm_topics(synthesized: Synthesized) -> set[tuple[str, str]]:
    topics = set()
    for stack, template in _templates(synthesized):
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
            props = alarm["Properties"]
            for action in [*props.get("AlarmActions", []), *props.get("OKActions", [])]:
                target = _resolve_ref(action, stack, synthesized)
                assert target is not None, f"alarm action {action!r} in {stack} is not a topic of this app"
                topics.add(target)
    return topics


def _statement_applies_to_cloudwatch_tls_publish(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    principals = (
        ["*"]
        if principal == "*"
        else as_list(principal.get("Service", [])) + as_list(principal.get("AWS", []))
    )
    if "*" not in principals and "cloudwatch.amazonaws.com" not in principals:
        return False
    if not {"sns:Publish", "sns:*", "*"} & set(as_list(statement["Action"])):
        return False
    condition = statement.get("Condition", {})
    # A Deny scoped to non-TLS requests (aws:SecureTransport false) does not apply to CloudWatch's TLS call.
    return condition.get("Bool", {}).get("aws:SecureTransport") not in ("false", False)


def _allows_cloudwatch_alarms(statement: Mapping[str, Any], topic: tuple[str, str]) -> bool:
    if statement["Effect"] != "Allow" or statement.get("Principal") == "*":
        return False
    if as_list(statement["Principal"].get("Service")) != ["cloudwatch.amazonaws.com"]:
        return False
    if "sns:Publish" not in as_list(statement["Action"]):
        return False
    condition = statement.get("Condition", {})
    source_arn = json.dumps(condition.get("ArnLike", {}).get("aws:SourceArn"))
    return (
        condition.get("StringEquals", {}).get("aws:SourceAccount") == {"Ref": "AWS::AccountId"}
        and re.search(r':cloudwatch:".*"AWS::Region".*"AWS::AccountId".*:alarm:\*', source_arn) is not None
        and {"Ref": topic[1]} in as_list(statement["Resource"])
    )


@pytest.mark.parametrize("fixture", [*FIXTURES, "standalone"])
def test_every_topic_an_alarm_notifies_lets_cloudwatch_publish(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    topics = _alarm_topics(synthesized)
    assert len(topics) == (2 if fixture == "standalone" else 1)
    for stack, topic in topics:
        template = synthesized.json[stack]
        assert template["Resources"][topic]["Type"] == "AWS::SNS::Topic"
        policies = [
            policy["Properties"]["PolicyDocument"]["Statement"]
            for policy in resources(template, "AWS::SNS::TopicPolicy").values()
            if {"Ref": topic} in policy["Properties"]["Topics"]
        ]
        # A TopicPolicy replaces the default policy, so the statements below are all there is.
        statements = [statement for policy in policies for statement in policy]
        assert any(_allows_cloudwatch_alarms(s, (stack, topic)) for s in statements), (stack, topic)
        blocking = [
            s for s in statements if s["Effect"] == "Deny" and _statement_applies_to_cloudwatch_tls_publish(s)
        ]
        assert blocking == [], (stack, topic)


# --- 3. nothing that survives a stack deletion blocks the next creation ----------------------------


def _unique_per_stack_creation(value: Any) -> bool:
    return any(item == {"Ref": "AWS::StackId"} for item in walk(value))


@pytest.mark.parametrize("fixture", FIXTURES)
def test_retained_resources_have_no_fixed_unique_name(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    retained = 0
    for stack, template in _templates(synthesized):
        for logical_id, resource in template["Resources"].items():
            if resource.get("DeletionPolicy") not in RETAINING:
                continue
            retained += 1
            kind = resource["Type"]
            assert kind in UNIQUE_NAME or kind in NO_UNIQUE_NAME, f"classify retained {kind} ({stack})"
            name = resource.get("Properties", {}).get(UNIQUE_NAME.get(kind, ""))
            assert name is None or _unique_per_stack_creation(name), (stack, logical_id, name)
    assert retained or fixture == "overridden"


def test_the_waf_log_group_keeps_the_prefix_waf_requires(synth: Synthesized) -> None:
    _, template = synth.by_suffix("-Operations")
    [name] = [
        group["Properties"]["LogGroupName"]
        for group in resources(template, "AWS::Logs::LogGroup").values()
        if "LogGroupName" in group["Properties"]
    ]
    assert name["Fn::Join"][1][0].startswith("aws-waf-logs-")
    assert _unique_per_stack_creation(name)


# --- 4. the project's own layer is extracted last ---------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES)
def test_no_layer_is_extracted_after_the_projects_own(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    checked = 0
    for stack, template in _templates(synthesized):
        own = set(resources(template, "AWS::Lambda::LayerVersion"))
        for logical_id, function in resources(template, "AWS::Lambda::Function").items():
            layers = function["Properties"].get("Layers", [])
            is_own = [isinstance(layer, dict) and layer.get("Ref") in own for layer in layers]
            if True in is_own:
                checked += 1
                first_own = is_own.index(True)
                assert all(is_own[first_own:]), f"{stack}/{logical_id}: a public layer after ours: {layers}"
    assert checked


# --- 6. production CORS has no local origin ----------------------------------------------------------

LOCAL_ORIGIN = re.compile(r"localhost|127\.0\.0\.1|\[::1\]", re.IGNORECASE)


def test_the_default_synth_names_no_local_origin_anywhere(synth: Synthesized) -> None:
    for stack, template in _templates(synth):
        assert LOCAL_ORIGIN.search(json.dumps(template)) is None, stack


def test_the_local_stack_passes_its_dev_origins_itself() -> None:
    from local.synth import LOCAL_ALLOWED_ORIGINS, _context

    context = _context({}, Path(__file__).resolve().parents[2])
    assert context["allowedOrigins"] == LOCAL_ALLOWED_ORIGINS
    assert "http://localhost:5173" in LOCAL_ALLOWED_ORIGINS
    assert _context({"allowedOrigins": []}, Path(__file__).resolve().parents[2])["allowedOrigins"] == []


# --- 7. reserved concurrency -------------------------------------------------------------------------


def _functions(synthesized: Synthesized) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stack, template in _templates(synthesized):
        for logical_id, function in resources(template, "AWS::Lambda::Function").items():
            yield stack, logical_id, function["Properties"]


@pytest.mark.parametrize("fixture", ["synth", "overridden"])
def test_reservations_leave_the_unreserved_minimum(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    settings = Settings.from_app(synthesized.app)
    reserved = sum(props.get("ReservedConcurrentExecutions", 0) for _, _, props in _functions(synthesized))
    assert reserved == settings.reserved_concurrency_total
    assert settings.account_concurrency_limit - reserved >= MINIMUM_UNRESERVED_CONCURRENCY


def test_every_function_of_the_shop_reserves_concurrency(synth: Synthesized) -> None:
    ours = [
        (stack, props) for stack, _, props in _functions(synth) if not props["Handler"].startswith("index.")
    ]
    assert len(ours) == 4
    for stack, props in ours:
        assert props.get("ReservedConcurrentExecutions", 0) >= 1, (stack, props["Handler"])


@pytest.mark.parametrize("fixture", FIXTURES)
def test_event_sources_fit_in_their_functions_reservation(
    fixture: str, request: pytest.FixtureRequest
) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    for stack, template in _templates(synthesized):
        functions = resources(template, "AWS::Lambda::Function")
        for mapping in resources(template, "AWS::Lambda::EventSourceMapping").values():
            props = mapping["Properties"]
            reserved = functions[props["FunctionName"]["Ref"]]["Properties"].get(
                "ReservedConcurrentExecutions"
            )
            if reserved is None:
                continue
            assert reserved != 0, "a reservation of 0 stops the function"
            if "ScalingConfig" in props:  # SQS
                assert reserved >= props["ScalingConfig"]["MaximumConcurrency"], stack
            if "StartingPosition" in props:  # a stream: one batch per shard times the factor
                shards = _cart_of(synthesized, stack).totals_stream_shards
                assert reserved >= props.get("ParallelizationFactor", 1) * shards, stack


def _cart_of(synthesized: Synthesized, stack: str) -> ShoppingCart:
    [cart] = [c for c in synthesized.stacks[stack].node.find_all() if isinstance(c, ShoppingCart)]
    return cart


def test_zero_reserves_nothing_rather_than_stopping_the_function(tmp_path: Path) -> None:
    context = {
        **SKIP_BUNDLING,
        "frontendPath": "",
        "enableWaf": "false",
        "cartApiReservedConcurrency": "0",
        "productApiReservedConcurrency": "0",
        "totalsAggregatorReservedConcurrency": "0",
        "deleteWorkerReservedConcurrency": "0",
        "accountConcurrencyLimit": "10",
    }
    synthesized = Synthesized.of(build_app(context, outdir=str(tmp_path)), tmp_path)
    assert all("ReservedConcurrentExecutions" not in props for _, _, props in _functions(synthesized))


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"accountConcurrencyLimit": "10"}, "at least 100 unreserved"),
        ({"cartApiReservedConcurrency": "-1"}, "cartApiReservedConcurrency"),
        ({"deleteWorkerReservedConcurrency": "3"}, "delete_max_concurrency"),
        ({"totalsAggregatorReservedConcurrency": "2"}, "totals_stream_shards"),
    ],
)
def test_reservations_aws_would_refuse_or_that_starve_a_mapping_fail_synth(
    context: dict[str, str], message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):
        build_app({**SKIP_BUNDLING, "frontendPath": "", **context}, outdir=str(tmp_path))


# --- 10. a replaced producer value can never leave a consumer stale ----------------------------------


@pytest.mark.parametrize("fixture", ["synth", "overridden"])
def test_cross_stack_values_are_strong_imports(fixture: str, request: pytest.FixtureRequest) -> None:
    synthesized: Synthesized = request.getfixturevalue(fixture)
    exports = _exports(synthesized)
    imports = 0
    for stack, template in _templates(synthesized):
        text = json.dumps(template)
        assert "Fn::GetStackOutput" not in text, stack
        for value in walk(template):
            if isinstance(value, dict) and "Fn::ImportValue" in value:
                imports += 1
                assert exports[value["Fn::ImportValue"]][0] != stack
    assert imports


def test_replacing_the_app_client_changes_every_consumer_template(
    synth: Synthesized, storefront: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new client (a new logical id, as any replacement is) must reach the Cart and Frontend stacks:
    their import names change, so CloudFormation updates them; and CloudFormation refuses to remove or
    change an export that is still imported, so the old value can never be used silently."""
    add_client = Auth.__init__

    def with_a_new_client(self: Auth, *args: Any, **kwargs: Any) -> None:
        add_client(self, *args, **kwargs)
        self.user_pool_client = self.user_pool.add_client("WebClientV2", disable_o_auth=True)

    monkeypatch.setattr(Auth, "__init__", with_a_new_client)
    context = {**SKIP_BUNDLING, "frontendPath": str(storefront)}
    replaced = Synthesized.of(build_app(context, outdir=str(tmp_path)), tmp_path)
    for consumer in ("ShoppingCart-Cart", "ShoppingCart-Frontend"):
        before, after = synth.json[consumer], replaced.json[consumer]
        assert before != after, consumer
        assert {json.dumps(v) for v in walk(before) if isinstance(v, dict) and "Fn::ImportValue" in v} != {
            json.dumps(v) for v in walk(after) if isinstance(v, dict) and "Fn::ImportValue" in v
        }


# --- 8. partitions -----------------------------------------------------------------------------------


def test_cdk_json_targets_the_aws_partition_only() -> None:
    cdk_json = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())
    assert cdk_json["context"]["@aws-cdk/core:target-partitions"] == ["aws"]
    assert cdk_json["context"]["@aws-cdk/core:defaultCrossStackReferences"] == "strong"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_a_region_of_another_partition_is_refused(region: str) -> None:
    from aws_cdk import App, Environment, Stack

    from app import _refuse_other_partitions

    app = App()
    Stack(app, "Elsewhere", env=Environment(region=region, account="123456789012"))
    with pytest.raises(ValueError, match="outside the aws partition"):
        _refuse_other_partitions(app)


# --- 8. CloudFront standard logs follow the region's rules -------------------------------------------


@pytest.mark.parametrize(
    ("region", "delivered"), [("eu-south-1", False), ("me-south-1", False), ("eu-west-1", True)]
)
def test_standard_logs_only_where_cloudfront_delivers_them(
    region: str, delivered: bool, storefront: Path
) -> None:
    from aws_cdk import App, Environment, Stack
    from aws_cdk import aws_cognito as cognito
    from aws_cdk.assertions import Template

    from app import _cdk_json_context
    from shopping_cart import Frontend

    app = App(context={**_cdk_json_context(), **SKIP_BUNDLING})
    stack = Stack(app, "Shop", env=Environment(region=region, account="123456789012"))
    pool = cognito.UserPool(stack, "Pool")
    Frontend(
        stack,
        "Shop",
        asset_path=storefront,
        cart_api_url="https://cart.example.com/prod",
        product_api_url="https://products.example.com/prod",
        user_pool=pool,
        user_pool_client=pool.add_client("Web"),
    )
    template = Template.from_stack(stack).to_json()
    assert "Conditions" not in template  # a concrete region is decided at synth
    [distribution] = resources(template, "AWS::CloudFront::Distribution").values()
    assert ("Logging" in distribution["Properties"]["DistributionConfig"]) is delivered
    ownership = {
        rule["ObjectOwnership"]
        for bucket in resources(template, "AWS::S3::Bucket").values()
        for rule in bucket["Properties"].get("OwnershipControls", {}).get("Rules", [])
    }
    assert ("BucketOwnerPreferred" in ownership) is delivered
