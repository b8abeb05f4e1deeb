"""A test-only CDK app for what stands in front of an API on AWS: a web ACL with a small rate limit and a
managed rule group, associated with the stage, and an AWS_IAM method that one function's role may
invoke and another's may not. The local stack must enforce both from the cloud assembly alone."""

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_wafv2 as wafv2

HANDLERS = str(Path(__file__).parent / "handlers")
RATE_LIMIT = 10


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=False, metric_name=name, sampled_requests_enabled=False
    )


class EdgeStack(cdk.Stack):
    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        def function(name: str, handler: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler=handler,
                code=lambda_.Code.from_asset(HANDLERS),
                timeout=cdk.Duration.seconds(5),
            )

        echo = function("Echo", "edge.echo")
        api = apigw.RestApi(self, "EdgeApi", rest_api_name="edge-api")
        api.root.add_resource("open").add_method("GET", apigw.LambdaIntegration(echo))
        internal = api.root.add_resource("internal").add_resource("{id}")
        internal.add_method(
            "GET", apigw.LambdaIntegration(echo), authorization_type=apigw.AuthorizationType.IAM
        )

        granted, stranger = function("Granted", "edge.call"), function("Stranger", "edge.call")
        for caller in (granted, stranger):
            caller.add_environment("TARGET_URL", api.url_for_path("/internal/one"))
        granted.add_to_role_policy(
            iam.PolicyStatement(
                actions=["execute-api:Invoke"],
                resources=[api.arn_for_execute_api("GET", "/internal/*", api.deployment_stage.stage_name)],
            )
        )

        only_open = wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="ENDS_WITH",
                search_string="/open",
                text_transformations=[wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")],
            )
        )
        acl = wafv2.CfnWebACL(
            self,
            "EdgeAcl",
            name="edge-acl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("edge"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="OpenPerIp",
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=RATE_LIMIT,
                            evaluation_window_sec=60,
                            aggregate_key_type="IP",
                            scope_down_statement=only_open,
                        )
                    ),
                    visibility_config=_visibility("open"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="Common",
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                        )
                    ),
                    visibility_config=_visibility("common"),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self, "EdgeAclAssociation", resource_arn=api.deployment_stage.stage_arn, web_acl_arn=acl.attr_arn
        )
        cdk.CfnOutput(self, "EdgeApiUrl", value=api.url)
        cdk.CfnOutput(self, "GrantedFunction", value=granted.function_arn)
        cdk.CfnOutput(self, "StrangerFunction", value=stranger.function_arn)


def build(outdir: str) -> cdk.App:
    """The app, as the CDK CLI would synthesize it for the local stack (asset metadata on)."""
    context = {"aws:cdk:bundling-stacks": [], "aws:cdk:enable-asset-metadata": True}
    app = cdk.App(outdir=outdir, context=context)
    EdgeStack(app, "Edge")
    return app


if __name__ == "__main__":
    cdk_app = cdk.App()
    EdgeStack(cdk_app, "Edge")
    cdk_app.synth()
