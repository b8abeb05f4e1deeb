"""One place for the REST API defaults shared by the product mock and the cart."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from constructs import Construct

CORS_ALLOW_HEADERS = ("Content-Type", "Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Api-Key")

_CLOUD_WATCH_ROLE_POLICY = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]"
)


def _access_log_format() -> apigw.AccessLogFormat:
    """One JSON object per request; every field a string except the already-quoted error message."""
    fields = {
        "requestId": "$context.requestId",
        "extendedRequestId": "$context.extendedRequestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "userAgent": "$context.identity.userAgent",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "path": "$context.path",
        "protocol": "$context.protocol",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "responseLatency": "$context.responseLatency",
        "integrationStatus": "$context.integration.status",
        "integrationLatency": "$context.integration.latency",
        "authorizerError": "$context.authorizer.error",
        "xrayTraceId": "$context.xrayTraceId",
    }
    return apigw.AccessLogFormat.custom(json.dumps(fields)[:-1] + ', "error": $context.error.messageString}')


def api_base_url(api: apigw.RestApi) -> str:
    """``https://{id}.execute-api.{region}.{suffix}/{stage}``: the stage URL without a trailing slash."""
    stack = Stack.of(api)
    return (
        f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/"
        f"{api.deployment_stage.stage_name}"
    )


def rest_api(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    description: str,
    allowed_origins: Sequence[str],
    allow_methods: Sequence[str],
    stage_name: str,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    throttling_rate_limit: float,
    throttling_burst_limit: int,
    cloud_watch_role: bool,
    web_acl_arn: str | None,
    parts_prefix: str | None = None,
) -> tuple[apigw.RestApi, logs.LogGroup]:
    """A regional REST API with JSON access logs, execution logging of errors, X-Ray and throttling.

    CORS: preflight for ``allowed_origins`` with credentials (the Lambda responses carry their own CORS
    headers, from ALLOWED_ORIGINS); with exactly one origin, the gateway's own 4xx/5xx answers (an
    authorizer's 401, a validation 400) carry it too so the browser can read them. Creates
    ``{construct_id}`` and ``{parts_prefix}AccessLogs`` (and ``{parts_prefix}WebAcl``) in ``scope``;
    ``parts_prefix`` defaults to ``construct_id``.
    """
    prefix = construct_id if parts_prefix is None else parts_prefix
    access_logs = logs.LogGroup(
        scope, f"{prefix}AccessLogs", retention=log_retention, removal_policy=removal_policy
    )
    origins = list(allowed_origins)
    if "*" in origins:
        raise ValueError("allowed_origins cannot contain '*': the APIs allow credentials (cookies)")
    api = apigw.RestApi(
        scope,
        construct_id,
        rest_api_name=f"{Stack.of(scope).stack_name}-{name}",
        description=description,
        endpoint_types=[apigw.EndpointType.REGIONAL],
        cloud_watch_role=cloud_watch_role,
        default_cors_preflight_options=_cors(origins, allow_methods),
        deploy_options=apigw.StageOptions(
            stage_name=stage_name,
            access_log_destination=apigw.LogGroupLogDestination(access_logs),
            access_log_format=_access_log_format(),
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
            metrics_enabled=True,
            tracing_enabled=True,
            throttling_rate_limit=throttling_rate_limit,
            throttling_burst_limit=throttling_burst_limit,
        ),
    )
    # RestApi adds an "Endpoint" output with a trailing slash; the stacks output api_base_url instead.
    api.node.try_remove_child("Endpoint")
    if len(origins) == 1:
        _gateway_responses_for(api, origins[0])
    _protect(scope, api, f"{prefix}WebAcl", web_acl_arn, cloud_watch_role=cloud_watch_role)
    return api, access_logs


def _cors(origins: list[str], allow_methods: Sequence[str]) -> apigw.CorsOptions | None:
    """Preflight answers for ``origins``, with credentials; None (no OPTIONS methods) without origins."""
    if not origins:
        return None
    return apigw.CorsOptions(
        allow_origins=origins,
        allow_credentials=True,
        allow_methods=list(allow_methods),
        allow_headers=list(CORS_ALLOW_HEADERS),
        max_age=Duration.hours(1),
    )


def _gateway_responses_for(api: apigw.RestApi, origin: str) -> None:
    """The gateway's own 4xx/5xx answers carry CORS headers, so the browser can read them."""
    headers = {
        "Access-Control-Allow-Origin": f"'{origin}'",
        "Access-Control-Allow-Credentials": "'true'",
        "Vary": "'Origin'",
    }
    api.add_gateway_response("Default4xx", type=apigw.ResponseType.DEFAULT_4_XX, response_headers=headers)
    api.add_gateway_response("Default5xx", type=apigw.ResponseType.DEFAULT_5_XX, response_headers=headers)


def _protect(
    scope: Construct,
    api: apigw.RestApi,
    association_id: str,
    web_acl_arn: str | None,
    *,
    cloud_watch_role: bool,
) -> None:
    """The stage's web ACL (when given) and the acknowledgments of what the stage does without."""
    stage = api.deployment_stage
    Validations.of(stage).acknowledge(
        Acknowledgment(
            id="Serverless-APIGWStructuredLogging",
            reason="The access log format is one JSON object per request; its error field is "
            "$context.error.messageString, which API Gateway writes already quoted, so the format text "
            "is not itself parseable JSON although every log line is.",
        )
    )
    if web_acl_arn:
        wafv2.CfnWebACLAssociation(
            scope,
            association_id,
            resource_arn=stage.stage_arn,
            web_acl_arn=web_acl_arn,
        )
    else:
        Validations.of(stage).acknowledge(
            Acknowledgment(
                id="AwsSolutions-APIG3",
                reason="A WAFv2 web ACL is optional (prop web_acl_arn): it is a per-account cost and rule "
                "choice; without one the stage is still protected by its throttling limits.",
            )
        )
    if cloud_watch_role:
        Validations.of(api.node.find_child("CloudWatchRole")).acknowledge(
            Acknowledgment(
                id=_CLOUD_WATCH_ROLE_POLICY,
                reason="The account-level role that lets API Gateway write execution logs; "
                "AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents for it.",
            )
        )


def acknowledge_open_method(method: apigw.Method, reason: str) -> None:
    """Record why a method has no authorizer (cdk-nag APIG4 and COG4)."""
    Validations.of(method).acknowledge(
        Acknowledgment(id="AwsSolutions-APIG4", reason=reason),
        Acknowledgment(id="AwsSolutions-COG4", reason=reason),
    )


def acknowledge_preflight(api: apigw.RestApi) -> None:
    """CORS preflight (OPTIONS) methods never carry credentials, so they cannot have an authorizer."""

    def visit(resource: apigw.IResource) -> None:
        options = resource.node.try_find_child("OPTIONS")
        if isinstance(options, apigw.Method):
            acknowledge_open_method(
                options,
                "CORS preflight: browsers send OPTIONS without credentials, so it cannot be authorized; "
                "it is a mock integration that only returns CORS headers.",
            )
        for child in resource.node.children:
            if isinstance(child, apigw.Resource):
                visit(child)

    visit(api.root)
