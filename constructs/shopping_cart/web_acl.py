"""ApiWebAcl: a REGIONAL AWS WAF web ACL for the REST APIs of the cart and the product service.

Rules, in evaluation order:

0. ``RateLimitPerViewerIp``: a rate-based rule per client IP for requests that came through the
   storefront's CloudFront distribution. API Gateway sees CloudFront's edge servers as the source IP,
   so the distribution (:class:`shopping_cart.Frontend`) writes the viewer's address into
   :data:`VIEWER_IP_HEADER` (a CloudFront Function on the API behaviours overwrites whatever the client
   sent) and this rule aggregates on that header. WAF skips a rate-based rule when the header is
   absent; a value that is not an IP address is blocked (fallback MATCH).
1. ``RateLimitPerSourceIp``: the same limit per source IP for requests without that header (clients
   that call the execute-api URL directly, the cart's calls to the product service).
2. ``AWSManagedRulesCommonRuleSet`` (OWASP-style protections) and
3. ``AWSManagedRulesKnownBadInputsRuleSet`` (Log4j, Java deserialization, ...).

A direct caller could forge the viewer header to spread its requests over many keys; the stage's own
throttling (``throttling_rate_limit``/``throttling_burst_limit``) still bounds the whole API.

Logging: requests that a rule blocked or counted go to a CloudWatch log group
(``aws-waf-logs-<stack>``) with the ``authorization`` and ``cookie`` headers redacted; allowed requests
are not logged (they are in the API access logs, and logging every request would cost more than WAF).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2

from constructs import Construct

#: The request header the storefront's distribution sets to the viewer's IP address on API requests.
VIEWER_IP_HEADER = "X-Viewer-Ip"

#: AWS managed rule groups, in evaluation order after the rate-based rules.
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class ApiWebAcl(Construct):
    """A REGIONAL web ACL for API Gateway stages (pass ``web_acl.arn`` as ``web_acl_arn``).

    Keyword properties:
        rate_limit: requests per client IP per ``rate_limit_window`` before WAF blocks (10..2e9).
        rate_limit_window: the evaluation window of the rate-based rules, in seconds (60, 120, 300, 600).
        logging: log blocked and counted requests to CloudWatch Logs.
        log_retention, removal_policy: of that log group.
        name: the web ACL's name (default: the stack name and the construct id).

    Attributes: ``web_acl`` (the CfnWebACL), ``arn``, ``name``, ``log_group`` (None without logging),
    ``rule_names``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rate_limit: int = 2000,
        rate_limit_window: int = 300,
        logging: bool = True,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        name: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not 10 <= rate_limit <= 2_000_000_000:
            raise ValueError("rate_limit must be 10..2000000000 requests per window")
        if rate_limit_window not in (60, 120, 300, 600):
            raise ValueError("rate_limit_window must be 60, 120, 300 or 600 seconds")
        stack = Stack.of(self)
        self.name = name or f"{stack.stack_name}-{construct_id}"
        metric_prefix = "".join(ch for ch in self.name if ch.isalnum())

        viewer_header_present = wafv2.CfnWebACL.StatementProperty(
            size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                    single_header={"Name": VIEWER_IP_HEADER.lower()}
                ),
                comparison_operator="GT",
                size=0,
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        block = wafv2.CfnWebACL.RuleActionProperty(block={})
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerViewerIp",
                priority=0,
                action=block,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit,
                        evaluation_window_sec=rate_limit_window,
                        aggregate_key_type="FORWARDED_IP",
                        forwarded_ip_config=wafv2.CfnWebACL.ForwardedIPConfigurationProperty(
                            header_name=VIEWER_IP_HEADER, fallback_behavior="MATCH"
                        ),
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}RateLimitPerViewerIp"),
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="RateLimitPerSourceIp",
                priority=1,
                action=block,
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit,
                        evaluation_window_sec=rate_limit_window,
                        aggregate_key_type="IP",
                        scope_down_statement=wafv2.CfnWebACL.StatementProperty(
                            not_statement=wafv2.CfnWebACL.NotStatementProperty(
                                statement=viewer_header_present
                            )
                        ),
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}RateLimitPerSourceIp"),
            ),
        ]
        for index, group in enumerate(MANAGED_RULE_GROUPS):
            rules.append(
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
            )
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
            # WAF only delivers to log groups whose name starts with aws-waf-logs-.
            self.log_group = logs.LogGroup(
                self,
                "Logs",
                log_group_name=f"aws-waf-logs-{self.name}",
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
                        "Conditions": [
                            {"ActionCondition": {"Action": action}} for action in ("BLOCK", "COUNT")
                        ],
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
                    for header in ("authorization", "cookie")
                ],
                logging_filter=keep_blocked_and_counted,
            )
