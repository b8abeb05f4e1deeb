"""Helpers for the infrastructure tests: synthesize once, then read templates as plain dicts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

#: Context that skips the pip bundling of the dependencies layer (no network, fast).
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}

SHOP_DOMAIN = "shop.example.com"
SHOP_ORIGIN = f"https://{SHOP_DOMAIN}"
WEB_ACL_ARN = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shop/11111111-2222-3333-4444-555555555555"
CLOUDFRONT_WEB_ACL_ARN = (
    "arn:aws:wafv2:us-east-1:123456789012:global/webacl/shop-edge/66666666-7777-8888-9999-000000000000"
)
CERTIFICATE_ARN = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-aaaa-bbbb-cccc-1234567890ab"
ALARM_EMAIL = "ops@example.com"

#: The managed CloudFront policies the API behaviours use (ids are fixed by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

#: Environment variables of the cart API (docs/DESIGN.md).
CART_API_ENV = {
    "TABLE_NAME",
    "DELETE_QUEUE_URL",
    "PRODUCT_SERVICE_URL",
    "USER_POOL_CLIENT_ID",
    "TOKEN_ISSUER",
    "JWKS_URL",
    "ADMIN_GROUP",
    "ANONYMOUS_CART_TTL_SECONDS",
    "USER_CART_TTL_SECONDS",
    "MAX_QUANTITY",
    "ALLOWED_ORIGINS",
    "PRODUCT_CACHE_SECONDS",
    "PRODUCT_SERVICE_TIMEOUT_SECONDS",
    "PRODUCT_SERVICE_AUTH",
}
COMMON_ENV = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass
class Synthesized:
    """A synthesized app: its stacks, their assertion Templates and their JSON, by stack id."""

    app: App
    outdir: Path
    stacks: dict[str, Stack]
    templates: dict[str, Template] = field(default_factory=dict)
    json: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, app: App, outdir: Path) -> Synthesized:
        app.synth()
        stacks = {child.node.id: child for child in app.node.children if isinstance(child, Stack)}
        result = cls(app=app, outdir=outdir, stacks=stacks)
        for name, stack in stacks.items():
            result.templates[name] = Template.from_stack(stack)
            result.json[name] = json.loads((outdir / stack.template_file).read_text())
        return result

    def by_suffix(self, suffix: str) -> tuple[str, dict[str, Any]]:
        """The (stack id, template dict) of the one stack whose id ends with ``suffix``."""
        [name] = [name for name in self.json if name.endswith(suffix)]
        return name, self.json[name]


def resources(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def only(template: Mapping[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = resources(template, resource_type).items()
    return logical_id, resource


def function_by_handler(template: Mapping[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [
        (logical_id, resource)
        for logical_id, resource in resources(template, "AWS::Lambda::Function").items()
        if resource["Properties"]["Handler"] == handler
    ]
    return logical_id, resource


def ref(value: Any) -> str | None:
    """The logical id behind ``{"Ref": id}`` or ``{"Fn::GetAtt": [id, attr]}``."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def role_statements(template: Mapping[str, Any], role_logical_id: str) -> list[dict[str, Any]]:
    """Every statement of every AWS::IAM::Policy attached to the role."""
    statements = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_on(statements: list[dict[str, Any]], logical_id: str, attribute: str = "Arn") -> set[str]:
    """The actions the statements allow on ``Fn::GetAtt [logical_id, attribute]``."""
    target = {"Fn::GetAtt": [logical_id, attribute]}
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow" and target in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }


def all_actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def api_methods(template: Mapping[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every AWS::ApiGateway::Method by (HTTP method, path), the path rebuilt from the resource tree."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")

    def path_of(resource_id: Any) -> str:
        if isinstance(resource_id, dict) and "Fn::GetAtt" in resource_id:
            return ""  # the root resource
        node = api_resources[ref(resource_id)]["Properties"]
        return f"{path_of(node['ParentId'])}/{node['PathPart']}"

    methods = {}
    for method in resources(template, "AWS::ApiGateway::Method").values():
        props = method["Properties"]
        methods[(props["HttpMethod"], path_of(props["ResourceId"]) or "/")] = props
    return methods


def resolve_cross_stack(value: Any, synthesized: Synthesized) -> Any:
    """Replace ``Fn::GetStackOutput`` / ``Fn::ImportValue`` by the producer's output value."""
    if isinstance(value, list):
        return [resolve_cross_stack(item, synthesized) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetStackOutput" in value:
        spec = value["Fn::GetStackOutput"]
        producer = synthesized.json[spec["StackName"]]
        return {"Producer": spec["StackName"], "Value": producer["Outputs"][spec["OutputName"]]["Value"]}
    if "Fn::ImportValue" in value:
        for stack, template in synthesized.json.items():
            for output in template.get("Outputs", {}).values():
                if output.get("Export", {}).get("Name") == value["Fn::ImportValue"]:
                    return {"Producer": stack, "Value": output["Value"]}
        raise KeyError(f"no stack exports {value['Fn::ImportValue']}")
    return {key: resolve_cross_stack(item, synthesized) for key, item in value.items()}


def walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def normalise(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template with asset hashes replaced, so editing handler code does not change it."""
    return json.loads(_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True)))


def asset_dir(synthesized: Synthesized, code: Mapping[str, Any]) -> Path:
    """The staged folder of a Lambda asset (``Code`` / ``Content`` with an S3Key ``<hash>.zip``)."""
    key = code["S3Key"]
    return synthesized.outdir / f"asset.{key.removesuffix('.zip')}"


def write_storefront(root: Path) -> Path:
    """A minimal built storefront: index.html, a hashed asset and a favicon."""
    files = {
        "index.html": '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>',
        "assets/index-abc123.js": "console.log('shop')",
        "favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def files_in(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
