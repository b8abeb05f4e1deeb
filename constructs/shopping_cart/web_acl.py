"""ApiWebAcl: a REGIONAL AWS WAF web ACL for the REST APIs of the cart and the product service.

Rules, in evaluation order:

0. ``RateLimitPerViewerIp``: a rate-based rule per viewer IP for requests that came through the
   storefront's CloudFront distribution. API Gateway sees CloudFront's edge servers as the source IP,
   so the distribution (:class:`shopping_cart.Frontend`) writes the viewer's address into
   :data:`VIEWER_IP_HEADER` (a CloudFront Function overwrites whatever the client sent) and adds the
   secret origin header :data:`ORIGIN_VERIFY_HEADER` (an origin custom header, which CloudFront sets
   over any viewer header of that name). The rule trusts ``X-Viewer-Ip`` only when that secret matches
   exactly (its scope-down statement); a request that came through CloudFront without the viewer header
   is blocked (fallback MATCH).
1. ``RateLimitPerSourceIp``: the same limit per source IP for every other request: direct calls to the
   execute-api URL, with or without a forged ``X-Viewer-Ip`` (no secret, so the header is ignored).
2. ``RateLimitServiceCalls``: service-to-service calls, which are SigV4-signed (an ``Authorization``
   header starting ``AWS4-HMAC-SHA256``) to a path with an ``/internal/`` segment (the product mock's
   AWS_IAM route ``/internal/product/{id}``), are limited per source IP on their own, higher limit
   (``service_rate_limit``): Lambda functions share a few egress addresses, so the shoppers' limit would
   refuse a busy shop's own product lookups. API Gateway checks the signature (AWS_IAM), so a forged
   header only moves a caller into this bucket, never past every limit. The path test is CONTAINS, so
   it matches whether WAF's URI path carries the stage (``/prod/internal/...``) or not.
3. ``AWSManagedRulesCommonRuleSet`` (OWASP-style protections: no User-Agent, bodies over 8 KB...) and
4. ``AWSManagedRulesKnownBadInputsRuleSet`` (Log4j, Java deserialization, ...).

The secret is a Secrets Manager generated value (``origin_verify_secret``), used through a
``{{resolve:secretsmanager:...}}`` dynamic reference in this ACL's ByteMatch and in the distribution's
origin custom header, so it never appears in template text. CloudFormation resolves a dynamic
reference only when it updates the resource that holds it: rotating the secret means redeploying both
stacks (Operations, then Frontend); between the two, CloudFront requests count per source IP.

Logging: requests that a rule blocked or counted go to a CloudWatch log group named
``aws-waf-logs-<acl name>-<stack uuid>`` (WAF requires the prefix; the stack's id makes it unique per
stack creation, so a redeploy after a destroy that kept the old group does not collide), with the
``authorization``, ``cookie`` and secret origin headers redacted; allowed requests are not logged.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Fn, RemovalPolicy, Stack, Validations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2

from constructs import Construct

#: The request header the storefront's distribution sets to the viewer's IP address on API requests.
VIEWER_IP_HEADER = "X-Viewer-Ip"

#: The secret origin header CloudFront adds on the API behaviours; the ACL trusts VIEWER_IP_HEADER with it.
ORIGIN_VERIFY_HEADER = "X-Origin-Verify"

#: A path segment that marks service-to-service routes (AWS_IAM methods such as /internal/product/{id}).
SERVICE_PATH_SEGMENT = "/internal/"

#: AWS managed rule groups, in evaluation order after the rate-based rules.
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


def _byte_match(field: wafv2.CfnWebACL.FieldToMatchProperty, constraint: str, value: str) -> Any:
    return wafv2.CfnWebACL.StatementProperty(
        byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
            field_to_match=field,
            positional_constraint=constraint,
            search_string=value,
            text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
        )
    )


def _header(name: str) -> wafv2.CfnWebACL.FieldToMatchProperty:
    return wafv2.CfnWebACL.FieldToMatchProperty(single_header={"Name": name.lower()})


def _and(*statements: Any) -> Any:
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def _not(statement: Any) -> Any:
    return wafv2.CfnWebACL.StatementProperty(
        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=statement)
    )


def _rate_rule(
    name: str, priority: int, metric_prefix: str, rate: wafv2.CfnWebACL.RateBasedStatementProperty
) -> wafv2.CfnWebACL.RuleProperty:
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(rate_based_statement=rate),
        visibility_config=_visibility(f"{metric_prefix}{name}"),
    )


def unique_per_stack_creation(scope: Construct) -> str:
    """The UUID part of ``AWS::StackId``: different for every creation of the stack."""
    return Fn.select(2, Fn.split("/", Stack.of(scope).stack_id))


class ApiWebAcl(Construct):
    """A REGIONAL web ACL for API Gateway stages (pass ``web_acl.arn`` as ``web_acl_arn``).

    Keyword properties:
        rate_limit: requests per client IP per ``rate_limit_window`` before WAF blocks (10..2e9).
        rate_limit_window: the evaluation window of the rate-based rules, in seconds (60, 120, 300, 600).
        service_rate_limit: the limit of signed service-to-service calls per source IP (default ten
            times ``rate_limit``).
        logging: log blocked and counted requests to CloudWatch Logs.
        log_retention, removal_policy: of that log group.
        name: the web ACL's name (default: the stack name and the construct id).

    Attributes: ``web_acl`` (the CfnWebACL), ``arn``, ``name``, ``log_group`` (None without logging),
    ``rule_names``, ``origin_verify_secret`` (give it to :class:`shopping_cart.Frontend`) and
    ``origin_verify_value`` (its dynamic reference).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rate_limit: int = 2000,
        rate_limit_window: int = 300,
        service_rate_limit: int | None = None,
        logging: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        service_rate_limit = service_rate_limit or min(10 * rate_limit, 2_000_000_000)
        for what, limit in (("rate_limit", rate_limit), ("service_rate_limit", service_rate_limit)):
            if not 10 <= limit <= 2_000_000_000:
                raise ValueError(f"{what} must be 10..2000000000 requests per window")
        if rate_limit_window not in (60, 120, 300, 600):
            raise ValueError("rate_limit_window must be 60, 120, 300 or 600 seconds")
        stack = Stack.of(self)
        self.name = name or f"{stack.stack_name}-{construct_id}"
        metric_prefix = "".join(ch for ch in self.name if ch.isalnum())

        self.origin_verify_secret = self._origin_verify_secret()
        self.origin_verify_value = self.origin_verify_secret.secret_value.unsafe_unwrap()

        self.rule_names: list[str] = []
        rules = self._rate_rules(metric_prefix, rate_limit, rate_limit_window, service_rate_limit)
        rules.extend(_managed_rules(metric_prefix))
        self.rule_names = [rule.name for rule in rules]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=self.name,
            description="Shopping cart APIs: per-IP rate limits and AWS managed rule groups",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(metric_prefix),
            rules=rules,
        )
        self.arn = self.web_acl.attr_arn

        self.log_group: logs.LogGroup | None = None
        if logging:
            self._log(stack, log_retention, removal_policy)

    def _origin_verify_secret(self) -> secretsmanager.Secret:
        """The value CloudFront sends in the origin-verify header: 48 random letters and digits."""
        secret = secretsmanager.Secret(
            self,
            "OriginVerifySecret",
            description=f"{self.name}: value of the {ORIGIN_VERIFY_HEADER} header CloudFront adds to API requests",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=48, exclude_punctuation=True, include_space=False
            ),
            # Nothing to keep: a new stack generates a new value and both consumers follow it.
            removal_policy=RemovalPolicy.DESTROY,
        )
        Validations.of(secret).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="The origin-verify header value is read by CloudFormation dynamic references in the web "
                "ACL and the CloudFront distribution, which only re-resolve on a stack update; automatic "
                "rotation would desynchronise them. Rotate by putting a new value and redeploying both stacks.",
            )
        )
        return secret

    def _rate_rules(
        self, metric_prefix: str, rate_limit: int, window: int, service_rate_limit: int
    ) -> list[wafv2.CfnWebACL.RuleProperty]:
        through_cloudfront = _byte_match(_header(ORIGIN_VERIFY_HEADER), "EXACTLY", self.origin_verify_value)
        service_call = _and(
            _byte_match(wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}), "CONTAINS", SERVICE_PATH_SEGMENT),
            _byte_match(_header("Authorization"), "STARTS_WITH", "AWS4-HMAC-SHA256 "),
        )
        per_ip = wafv2.CfnWebACL.RateBasedStatementProperty
        return [
            _rate_rule(
                "RateLimitPerViewerIp",
                0,
                metric_prefix,
                per_ip(
                    limit=rate_limit,
                    evaluation_window_sec=window,
                    aggregate_key_type="FORWARDED_IP",
                    forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                        header_name=VIEWER_IP_HEADER, fallback_behavior="MATCH"
                    ),
                    scope_down_statement=through_cloudfront,
                ),
            ),
            _rate_rule(
                "RateLimitPerSourceIp",
                1,
                metric_prefix,
                per_ip(
                    limit=rate_limit,
                    evaluation_window_sec=window,
                    aggregate_key_type="IP",
                    scope_down_statement=_and(_not(through_cloudfront), _not(service_call)),
                ),
            ),
            _rate_rule(
                "RateLimitServiceCalls",
                2,
                metric_prefix,
                per_ip(
                    limit=service_rate_limit,
                    evaluation_window_sec=window,
                    aggregate_key_type="IP",
                    scope_down_statement=_and(_not(through_cloudfront), service_call),
                ),
            ),
        ]

    def _log(self, stack: Stack, log_retention: logs.RetentionDays, removal_policy: RemovalPolicy) -> None:
        # WAF only delivers to log groups whose name starts with aws-waf-logs-; the stack's UUID keeps
        # a retained group of an earlier stack from blocking the next creation.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=Fn.join("", [f"aws-waf-logs-{self.name}-", unique_per_stack_creation(self)]),
            retention=log_retention,
            removal_policy=removal_policy,
        )
        # The logging filter is untyped JSON in CloudFormation's schema: PascalCase keys.
        keep_blocked_and_counted = {
            "DefaultBehavior": "DROP",
            "Filters": [
                {
                    "Behavior": "KEEP",
                    "Requirement": "MEETS_ANY",
                    "Conditions": [{"ActionCondition": {"Action": action}} for action in ("BLOCK", "COUNT")],
                }
            ],
        }
        wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.arn,
            # arn:aws:logs:region:account:log-group:NAME, without the ":*" of LogGroup.log_group_arn.
            log_destination_configs=[
                stack.format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=self.log_group.log_group_name,
                    arn_format=ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": header})
                for header in ("authorization", "cookie", ORIGIN_VERIFY_HEADER.lower())
            ],
            logging_filter=keep_blocked_and_counted,
        )


def _managed_rules(metric_prefix: str) -> list[wafv2.CfnWebACL.RuleProperty]:
    """The AWS managed rule groups, after the rate rules, each counting in its own metric."""
    return [
        wafv2.CfnWebACL.RuleProperty(
            name=group,
            priority=10 * (index + 1),
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS", name=group
                )
            ),
            visibility_config=_visibility(f"{metric_prefix}{group}"),
        )
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]
