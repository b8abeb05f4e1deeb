"""Frontend: the storefront on CloudFront, both APIs behind the same distribution, config.json, headers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from infra_helpers import (
    ALL_VIEWER_EXCEPT_HOST_HEADER,
    CACHING_DISABLED,
    CACHING_OPTIMIZED,
    CERTIFICATE_ARN,
    CLOUDFRONT_WEB_ACL_ARN,
    SHOP_DOMAIN,
    Synthesized,
    api_methods,
    only,
    ref,
    resolve_cross_stack,
    resources,
    walk,
)

from shopping_cart import Frontend
from shopping_cart.frontend import NO_STANDARD_LOGS_REGIONS, SPA_FUNCTION_CODE, VIEWER_IP_FUNCTION_CODE
from shopping_cart.web_acl import ORIGIN_VERIFY_HEADER

REPO_ROOT = Path(__file__).resolve().parents[2]
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
CONFIG_KEYS = {"region", "userPoolId", "userPoolClientId", "cartApiUrl", "productApiUrl", "maxQuantity"}
EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'", "https://cognito-idp.<region>.<suffix>"],
    "manifest-src": ["'self'"],
    "worker-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


@pytest.fixture(scope="module")
def frontend(synth: Synthesized) -> dict[str, Any]:
    return synth.json["ShoppingCart-Frontend"]


@pytest.fixture(scope="module")
def shop(custom: Synthesized) -> dict[str, Any]:
    return custom.json["EmbeddedShop"]


def _distribution(template: dict[str, Any]) -> dict[str, Any]:
    return only(template, "AWS::CloudFront::Distribution")[1]["Properties"]["DistributionConfig"]


def _buckets(template: dict[str, Any]) -> tuple[str, str | None]:
    """(site bucket, log bucket or None): the site bucket is the one the distribution's S3 origin reads."""
    buckets = resources(template, "AWS::S3::Bucket")
    [site] = [
        name for name, bucket in buckets.items() if "LifecycleConfiguration" not in bucket["Properties"]
    ]
    logs = [name for name in buckets if name != site]
    return site, logs[0] if logs else None


def _behaviours(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    distribution = _distribution(template)
    return {b["PathPattern"]: b for b in distribution.get("CacheBehaviors", [])}


def _origin(template: dict[str, Any], origin_id: str) -> dict[str, Any]:
    [origin] = [o for o in _distribution(template)["Origins"] if o["Id"] == origin_id]
    return origin


def _inline_outputs(value: Any, synthesized: Synthesized) -> Any:
    """Replace each cross-stack reference by the producing stack's exported value."""
    if isinstance(value, list):
        return [_inline_outputs(item, synthesized) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetStackOutput" in value or "Fn::ImportValue" in value:
        return resolve_cross_stack(value, synthesized)["Value"]
    return {key: _inline_outputs(item, synthesized) for key, item in value.items()}


def _csp(template: dict[str, Any]) -> dict[str, list[str]]:
    policy = only(template, "AWS::CloudFront::ResponseHeadersPolicy")[1]["Properties"]
    value = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    text = value["ContentSecurityPolicy"]
    if isinstance(text, dict):
        names = {"AWS::Region": "<region>", "AWS::URLSuffix": "<suffix>"}
        text = "".join(part if isinstance(part, str) else names[part["Ref"]] for part in text["Fn::Join"][1])
    return {d.split()[0]: d.split()[1:] for d in text.split("; ")}


def _deployments(template: dict[str, Any]) -> tuple[tuple[str, dict], tuple[str, dict]]:
    """(assets deployment, site deployment): the site one is the one that prunes."""
    deployments = resources(template, "Custom::CDKBucketDeployment")
    [site] = [(name, d) for name, d in deployments.items() if d["Properties"].get("Prune", True)]
    [assets] = [(name, d) for name, d in deployments.items() if name != site[0]]
    return assets, site


def _config(synthesized: Synthesized, template: dict[str, Any]) -> dict[str, Any]:
    """config.json as deployed: the staged JSON source with its deploy-time markers filled in."""
    _, (_, site) = _deployments(template)
    props = site["Properties"]
    [(key, markers)] = [
        (key, markers)
        for key, markers in zip(props["SourceObjectKeys"], props["SourceMarkers"], strict=True)
        if markers
    ]
    text = (synthesized.outdir / f"asset.{key.removesuffix('.zip')}" / "config.json").read_text()
    values = {}
    for marker, value in markers.items():
        text = text.replace(marker, json.dumps(marker))
        values[marker] = value
    config = json.loads(text)
    return {name: values.get(value, value) for name, value in config.items()}


def _quoted(value: Any) -> Any:
    """A marker's value is the JSON string of a token: Fn::Join of a quote, the token and a quote."""
    parts = value["Fn::Join"][1]
    assert parts[0].startswith('"')
    assert parts[-1].endswith('"')
    inner = [parts[0][1:], *parts[1:-1], parts[-1][:-1]]
    inner = [part for part in inner if part != ""]
    return inner[0] if len(inner) == 1 else inner


# --- Buckets -----------------------------------------------------------------------------------------


def test_site_bucket_is_private_encrypted_ssl_only_and_logged(frontend: dict[str, Any]) -> None:
    site, log = _buckets(frontend)
    props = frontend["Resources"][site]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert props["LoggingConfiguration"] == {"DestinationBucketName": {"Ref": log}, "LogFilePrefix": "s3/"}
    assert "WebsiteConfiguration" not in props


def _bucket_policy(template: dict[str, Any], bucket: str) -> list[dict[str, Any]]:
    [policy] = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in resources(template, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    return policy


@pytest.mark.parametrize("which", ["site", "log"])
def test_buckets_deny_plain_http(frontend: dict[str, Any], which: str) -> None:
    site, log = _buckets(frontend)
    statements = _bucket_policy(frontend, site if which == "site" else log)
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_only_the_distribution_reads_the_site_bucket_through_origin_access_control(
    frontend: dict[str, Any],
) -> None:
    site, _ = _buckets(frontend)
    distribution = only(frontend, "AWS::CloudFront::Distribution")[0]
    allows = [s for s in _bucket_policy(frontend, site) if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Action": "s3:GetObject",
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":cloudfront::",
                                {"Ref": "AWS::AccountId"},
                                ":distribution/",
                                {"Ref": distribution},
                            ],
                        ]
                    }
                }
            },
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": [site, "Arn"]}, "/*"]]},
        }
    ]
    oac_id, oac = only(frontend, "AWS::CloudFront::OriginAccessControl")
    assert oac["Properties"]["OriginAccessControlConfig"] | {"Name": None} == {
        "Name": None,
        "OriginAccessControlOriginType": "s3",
        "SigningBehavior": "always",
        "SigningProtocol": "sigv4",
    }
    s3_origin = _origin(frontend, _distribution(frontend)["DefaultCacheBehavior"]["TargetOriginId"])
    assert s3_origin["DomainName"] == {"Fn::GetAtt": [site, "RegionalDomainName"]}
    assert s3_origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert s3_origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}


def test_log_bucket_expires_logs_and_accepts_cloudfront_logs(frontend: dict[str, Any]) -> None:
    _, log = _buckets(frontend)
    props = frontend["Resources"][log]["Properties"]
    assert props["LifecycleConfiguration"]["Rules"] == [{"ExpirationInDays": 30, "Status": "Enabled"}]
    # CloudFront standard logs are delivered with an ACL grant: object writer ACLs must be honoured, in
    # the regions whose buckets CloudFront delivers to (the region is a token: a condition decides).
    [condition] = frontend["Conditions"]
    assert props["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": {"Fn::If": [condition, "BucketOwnerPreferred", "BucketOwnerEnforced"]}}
    ]
    assert props["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] is True
    assert _distribution(frontend)["Logging"] == {
        "Fn::If": [
            condition,
            {
                "Bucket": {"Fn::GetAtt": [log, "RegionalDomainName"]},
                "IncludeCookies": False,
                "Prefix": "cloudfront/",
            },
            {"Ref": "AWS::NoValue"},
        ]
    }
    excluded = frontend["Conditions"][condition]["Fn::Not"][0]["Fn::Or"]
    assert sorted(e["Fn::Equals"][1] for e in excluded) == sorted(NO_STANDARD_LOGS_REGIONS)
    assert all(e["Fn::Equals"][0] == {"Ref": "AWS::Region"} for e in excluded)


def test_everything_is_retained_by_default(frontend: dict[str, Any]) -> None:
    for resource_type in ("AWS::S3::Bucket", "AWS::Logs::LogGroup"):
        for resource in resources(frontend, resource_type).values():
            assert resource["DeletionPolicy"] == "Retain", resource_type
    assert not resources(frontend, "Custom::S3AutoDeleteObjects")


def test_destroy_empties_and_deletes_the_buckets(overridden: Synthesized) -> None:
    template = overridden.json["Test-Frontend"]
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 2
    for resource in buckets.values():
        assert resource["DeletionPolicy"] == "Delete"
    emptied = {
        ref(r["Properties"]["BucketName"])
        for r in resources(template, "Custom::S3AutoDeleteObjects").values()
    }
    assert emptied == set(buckets)
    for resource in resources(template, "AWS::Logs::LogGroup").values():
        assert resource["DeletionPolicy"] == "Delete"


# --- Distribution ------------------------------------------------------------------------------------


def test_distribution_serves_the_storefront(frontend: dict[str, Any]) -> None:
    distribution = _distribution(frontend)
    assert distribution["Enabled"] is True
    assert distribution["DefaultRootObject"] == "index.html"
    assert distribution["HttpVersion"] == "http2and3"
    assert distribution["IPV6Enabled"] is True
    assert distribution["PriceClass"] == "PriceClass_100"
    # Error responses would turn API errors (a JSON 404 or 403) into index.html as well.
    assert "CustomErrorResponses" not in distribution
    default = distribution["DefaultCacheBehavior"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert "OriginRequestPolicyId" not in default
    functions = {
        name: r["Properties"]["FunctionCode"]
        for name, r in resources(frontend, "AWS::CloudFront::Function").items()
    }
    [spa] = [name for name, code in functions.items() if code == SPA_FUNCTION_CODE]
    assert default["FunctionAssociations"] == [
        {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [spa, "FunctionARN"]}}
    ]


@pytest.mark.parametrize(
    ("api", "patterns"), [("Cart", ["/cart", "/cart/*"]), ("ProductMock", ["/product", "/product/*"])]
)
def test_api_behaviours_pass_requests_through_to_the_api_stage(
    synth: Synthesized, frontend: dict[str, Any], api: str, patterns: list[str]
) -> None:
    behaviours = _behaviours(frontend)
    viewer_ip = [
        name
        for name, r in resources(frontend, "AWS::CloudFront::Function").items()
        if r["Properties"]["FunctionCode"] == VIEWER_IP_FUNCTION_CODE
    ]
    policy = only(frontend, "AWS::CloudFront::ResponseHeadersPolicy")[0]
    origin_ids = set()
    for pattern in patterns:
        behaviour = behaviours[pattern]
        assert behaviour["AllowedMethods"] == ALL_METHODS
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert behaviour["ResponseHeadersPolicyId"] == {"Ref": policy}
        assert behaviour["FunctionAssociations"] == [
            {"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [viewer_ip[0], "FunctionARN"]}}
        ]
        origin_ids.add(behaviour["TargetOriginId"])
    [origin_id] = origin_ids
    origin = _origin(frontend, origin_id)
    assert origin["CustomOriginConfig"] == {
        "OriginProtocolPolicy": "https-only",
        "OriginSSLProtocols": ["TLSv1.2"],
    }
    # The secret the web ACL requires before it trusts X-Viewer-Ip, as the same dynamic reference.
    [header] = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    operations = synth.json["ShoppingCart-Operations"]
    secret = only(operations, "AWS::SecretsManager::Secret")[0]
    assert _inline_outputs(header["HeaderValue"], synth) == {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": secret}, ":SecretString:::}}"]]
    }
    # Domain and stage come from the API stack's own base URL output (https://{id}.execute-api.../{stage}).
    output = "CartApiUrl" if api == "Cart" else "ProductApiUrl"
    api_url = synth.json[f"ShoppingCart-{api}"]["Outputs"][output]["Value"]
    domain = _inline_outputs(origin["DomainName"], synth)
    assert domain == {"Fn::Select": [2, {"Fn::Split": ["/", api_url]}]}
    path = _inline_outputs(origin["OriginPath"], synth)
    assert path == {"Fn::Join": ["", ["/", {"Fn::Select": [3, {"Fn::Split": ["/", api_url]}]}]]}
    assert api_url["Fn::Join"][1][-2:] == ["/", {"Ref": api_url["Fn::Join"][1][-1]["Ref"]}]


def _spa_routes() -> list[str]:
    router = (REPO_ROOT / "frontend" / "src" / "router.js").read_text()
    routes = re.findall(r"path: '([^']+)'", router)
    assert "/checkout" in routes
    return [route.replace(":pathMatch(.*)*", "anything") for route in routes] + ["/order/complete"]


def test_api_paths_never_catch_a_storefront_route(frontend: dict[str, Any]) -> None:
    patterns = list(_behaviours(frontend))
    for route in _spa_routes():
        # CloudFront path patterns: * is any run of characters, ? one character, case-sensitive.
        assert not any(fnmatchcase(route, pattern) for pattern in patterns), route
    for asset in ("/index.html", "/config.json", "/assets/index-abc.js", "/favicon.svg"):
        assert not any(fnmatchcase(asset, pattern) for pattern in patterns), asset


def test_every_api_route_reaches_its_api(synth: Synthesized, frontend: dict[str, Any]) -> None:
    behaviours = _behaviours(frontend)
    cart_origin = behaviours["/cart"]["TargetOriginId"]
    product_origin = behaviours["/product"]["TargetOriginId"]
    for stack, origin in (("ShoppingCart-Cart", cart_origin), ("ShoppingCart-ProductMock", product_origin)):
        for _, path in api_methods(synth.json[stack]):
            if path == "/" or path.startswith("/internal"):
                continue  # the service route is for signed calls to the API itself, not for browsers
            concrete = path.replace("{product_id}", "trail-lantern")
            matched = [p for p in behaviours if fnmatchcase(concrete, p)]
            assert matched, concrete
            assert {behaviours[p]["TargetOriginId"] for p in matched} == {origin}, concrete


# --- CloudFront Functions (run with Node, the same JavaScript) ------------------------------------------


def _run_function(code: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = (
        code
        + "\nconst events = JSON.parse(process.argv[1]);\n"
        + ("console.log(JSON.stringify(events.map((e) => handler(e))));")
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(events)], capture_output=True, text=True, check=True, timeout=30
    )
    return json.loads(result.stdout)


def test_spa_function_serves_index_html_for_client_routes_only() -> None:
    uris = [
        "/",
        "/checkout",
        "/order/complete",
        "/admin",
        "/signin",
        "/no/such/page",
        "/index.html",
        "/config.json",
        "/favicon.svg",
        "/assets/index-C_JnpFbq.js",
        "/images/trail-lantern.svg",
    ]
    results = _run_function(SPA_FUNCTION_CODE, [{"request": {"uri": uri, "headers": {}}} for uri in uris])
    rewritten = {uri: result["uri"] for uri, result in zip(uris, results, strict=True)}
    assert rewritten == {
        "/": "/index.html",
        "/checkout": "/index.html",
        "/order/complete": "/index.html",
        "/admin": "/index.html",
        "/signin": "/index.html",
        "/no/such/page": "/index.html",
        "/index.html": "/index.html",
        "/config.json": "/config.json",
        "/favicon.svg": "/favicon.svg",
        "/assets/index-C_JnpFbq.js": "/assets/index-C_JnpFbq.js",
        "/images/trail-lantern.svg": "/images/trail-lantern.svg",
    }


def test_viewer_ip_function_overwrites_a_forged_header() -> None:
    event = {
        "viewer": {"ip": "203.0.113.7"},
        "request": {
            "uri": "/cart",
            "headers": {"x-viewer-ip": {"value": "10.0.0.1"}, "cookie": {"value": "c"}},
        },
    }
    [request] = _run_function(VIEWER_IP_FUNCTION_CODE, [event])
    assert request["headers"] == {"x-viewer-ip": {"value": "203.0.113.7"}, "cookie": {"value": "c"}}
    assert request["uri"] == "/cart"


def test_functions_use_the_javascript_2_runtime(frontend: dict[str, Any]) -> None:
    functions = resources(frontend, "AWS::CloudFront::Function")
    assert len(functions) == 2
    for function in functions.values():
        assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        assert function["Properties"]["AutoPublish"] is True


# --- Response headers ----------------------------------------------------------------------------------


def test_security_headers(frontend: dict[str, Any]) -> None:
    policy = only(frontend, "AWS::CloudFront::ResponseHeadersPolicy")[1]["Properties"]
    config = policy["ResponseHeadersPolicyConfig"]
    security = config["SecurityHeadersConfig"]
    assert _csp(frontend) == EXPECTED_CSP
    assert security["ContentSecurityPolicy"]["Override"] is True
    assert security["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 2 * 365 * 86400,
        "IncludeSubdomains": True,
        "Override": True,
    }
    assert security["ContentTypeOptions"] == {"Override": True}
    assert security["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert security["ReferrerPolicy"] == {
        "ReferrerPolicy": "strict-origin-when-cross-origin",
        "Override": True,
    }
    assert security["XSSProtection"] == {"Protection": False, "Override": True}
    custom = {item["Header"]: item["Value"] for item in config["CustomHeadersConfig"]["Items"]}
    assert custom == {
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    assert "CorsConfig" not in config  # one origin: the browser never needs CORS


def test_every_behaviour_sends_the_security_headers(frontend: dict[str, Any]) -> None:
    policy = only(frontend, "AWS::CloudFront::ResponseHeadersPolicy")[0]
    distribution = _distribution(frontend)
    behaviours = [distribution["DefaultCacheBehavior"], *distribution["CacheBehaviors"]]
    assert len(behaviours) == 5
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": policy} for b in behaviours)


def test_csp_allows_cognito_of_the_stack_region(frontend: dict[str, Any]) -> None:
    policy = only(frontend, "AWS::CloudFront::ResponseHeadersPolicy")[1]["Properties"]
    text = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    parts = text["ContentSecurityPolicy"]["Fn::Join"][1]
    assert {"Ref": "AWS::Region"} in parts
    assert {"Ref": "AWS::URLSuffix"} in parts


# --- Content: config.json and the two deployments ------------------------------------------------------


def test_config_json_points_both_apis_at_the_distribution(
    synth: Synthesized, frontend: dict[str, Any]
) -> None:
    config = _config(synth, frontend)
    assert set(config) == CONFIG_KEYS
    distribution = only(frontend, "AWS::CloudFront::Distribution")[0]
    same_origin = ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]
    assert _quoted(config["cartApiUrl"]) == same_origin
    assert _quoted(config["productApiUrl"]) == same_origin
    assert _quoted(config["region"]) == {"Ref": "AWS::Region"}
    auth = synth.json["ShoppingCart-Auth"]
    pool = only(auth, "AWS::Cognito::UserPool")[0]
    client = only(auth, "AWS::Cognito::UserPoolClient")[0]
    assert _inline_outputs(_quoted(config["userPoolId"]), synth) == {"Ref": pool}
    assert _inline_outputs(_quoted(config["userPoolClientId"]), synth) == {"Ref": client}
    # No userPoolEndpoint: Amplify talks to Cognito's regional endpoint (allowed by the CSP).
    assert "userPoolEndpoint" not in config


def test_hashed_assets_are_immutable_and_never_pruned(frontend: dict[str, Any]) -> None:
    (_, assets), _ = _deployments(frontend)
    props = assets["Properties"]
    assert props["Exclude"] == ["*"]
    assert props["Include"] == ["assets/*"]
    assert props["Prune"] is False
    assert props["SystemMetadata"] == {"cache-control": "public, max-age=31536000, immutable"}
    assert "DistributionId" not in props


def test_site_files_revalidate_and_invalidate_the_distribution(frontend: dict[str, Any]) -> None:
    (assets_id, _), (_, site) = _deployments(frontend)
    props = site["Properties"]
    distribution = only(frontend, "AWS::CloudFront::Distribution")[0]
    site_bucket, _ = _buckets(frontend)
    assert props["DestinationBucketName"] == {"Ref": site_bucket}
    assert props["Exclude"] == ["assets/*"]
    assert props["Prune"] is True
    assert props["SystemMetadata"] == {"cache-control": "no-cache"}
    assert props["DistributionId"] == {"Ref": distribution}
    assert props["DistributionPaths"] == ["/*"]
    # index.html goes up only after the chunks it names.
    assert assets_id in site["DependsOn"]


def test_the_deployment_handler_logs_with_retention(frontend: dict[str, Any]) -> None:
    [(group, log_group)] = resources(frontend, "AWS::Logs::LogGroup").items()
    assert log_group["Properties"]["RetentionInDays"] == 30
    [handler] = [
        f
        for f in resources(frontend, "AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "index.handler"
    ]
    assert handler["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group}}


def test_outputs_never_shadow_the_api_urls(frontend: dict[str, Any]) -> None:
    outputs = frontend["Outputs"]
    distribution = only(frontend, "AWS::CloudFront::Distribution")[0]
    assert outputs["StorefrontUrl"]["Value"] == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution, "DomainName"]}]]
    }
    assert outputs["DistributionId"]["Value"] == {"Ref": distribution}
    assert set(outputs) == {"StorefrontUrl", "DistributionId", "StorefrontBucketName"}


def test_frontend_stack_is_deployed_after_the_apis_and_the_user_pool(synth: Synthesized) -> None:
    dependencies = {stack.node.id for stack in synth.stacks["ShoppingCart-Frontend"].dependencies}
    assert dependencies == {
        "ShoppingCart-Auth",
        "ShoppingCart-Cart",
        "ShoppingCart-ProductMock",
        "ShoppingCart-Operations",  # the origin-verify secret
    }


# --- Props (the custom fixture's EmbeddedShop stack) ---------------------------------------------------


def test_custom_domain_certificate_and_edge_web_acl(shop: dict[str, Any]) -> None:
    distribution = _distribution(shop)
    assert distribution["Aliases"] == [SHOP_DOMAIN]
    assert distribution["ViewerCertificate"] == {
        "AcmCertificateArn": CERTIFICATE_ARN,
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert distribution["WebACLId"] == CLOUDFRONT_WEB_ACL_ARN
    assert distribution["Restrictions"] == {
        "GeoRestriction": {"Locations": ["US", "CA"], "RestrictionType": "whitelist"}
    }
    assert distribution["PriceClass"] == "PriceClass_All"
    assert "Logging" not in distribution
    assert len(resources(shop, "AWS::S3::Bucket")) == 1


def test_custom_config_csp_paths_and_origins(custom: Synthesized, shop: dict[str, Any]) -> None:
    config = _config(custom, shop)
    assert set(config) == CONFIG_KEYS | {"shopName"}
    assert config["cartApiUrl"] == config["productApiUrl"] == f"https://{SHOP_DOMAIN}"
    assert config["region"] == "eu-west-1"
    assert config["shopName"] == "Test shop"
    connect = _csp(shop)["connect-src"]
    assert connect == ["'self'", "https://cognito-idp.eu-west-1.<suffix>", "https://metrics.example.com"]
    behaviours = _behaviours(shop)
    assert set(behaviours) == {"/cart", "/cart/*", "/product*"}
    products = _origin(shop, behaviours["/product*"]["TargetOriginId"])
    assert products["DomainName"] == "products.example.com"
    assert products["OriginPath"] == "/v1"
    cart = _origin(shop, behaviours["/cart"]["TargetOriginId"])
    # A strong cross-stack reference here (the custom app has no weak-reference flag).
    assert any("Fn::ImportValue" in node for node in walk(cart["DomainName"]) if isinstance(node, dict))
    security = only(shop, "AWS::CloudFront::ResponseHeadersPolicy")[1]["Properties"]
    hsts = security["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["StrictTransportSecurity"]
    assert hsts["AccessControlMaxAgeSec"] == 365 * 86400


def test_custom_retention_and_destroy(shop: dict[str, Any]) -> None:
    [group] = resources(shop, "AWS::Logs::LogGroup").values()
    assert group["Properties"]["RetentionInDays"] == 7
    assert group["DeletionPolicy"] == "Delete"
    [bucket] = resources(shop, "AWS::S3::Bucket").values()
    assert bucket["DeletionPolicy"] == "Delete"
    assert resources(shop, "Custom::S3AutoDeleteObjects")


def test_public_attributes(custom: Synthesized) -> None:
    frontend = custom.app.node.find_child("EmbeddedShop").node.find_child("Shop")
    assert isinstance(frontend, Frontend)
    assert frontend.log_bucket is None
    assert frontend.url == f"https://{SHOP_DOMAIN}"
    assert set(frontend.config) == CONFIG_KEYS | {"shopName"}
    assert "frame-ancestors 'none'" in frontend.content_security_policy
    for attribute in (
        "bucket",
        "distribution",
        "response_headers_policy",
        "spa_function",
        "viewer_ip_function",
        "assets_deployment",
        "site_deployment",
        "deployment_log_group",
    ):
        assert getattr(frontend, attribute) is not None, attribute


# --- Construction errors (no synth) -----------------------------------------------------------------------


def _props(stack: Stack, asset_path: Path) -> dict[str, Any]:
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", "eu-west-1_abc")
    client = cognito.UserPoolClient.from_user_pool_client_id(stack, "Client", "client")
    return {
        "asset_path": asset_path,
        "cart_api_url": "https://cart.example.com/prod",
        "product_api_url": "https://products.example.com/prod",
        "user_pool": pool,
        "user_pool_client": client,
    }


def test_an_unbuilt_storefront_fails_with_a_clear_message(tmp_path: Path) -> None:
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match=r"has no index\.html.*npm run build"):
        Frontend(stack, "Shop", **_props(stack, tmp_path / "dist"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"domain_names": ["shop.example.com"]}, "domain_names and certificate"),
        ({"cart_api_url": "http://cart.example.com/prod"}, "must be https"),
        ({"product_paths": ("/cart",)}, "overlap"),
    ],
)
def test_invalid_props_are_rejected(storefront: Path, overrides: dict[str, Any], message: str) -> None:
    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match=message):
        Frontend(stack, "Shop", **{**_props(stack, storefront), **overrides})
