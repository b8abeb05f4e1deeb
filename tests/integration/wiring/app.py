"""A test-only CDK app: routes, an authorizer, a stream and a queue that the shopping cart does not
have. The local stack must serve them from the cloud assembly alone, with no change to local/."""

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs

HANDLERS = "handlers"


class WiringStack(cdk.Stack):
    def __init__(self, scope: cdk.App, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        table = dynamodb.Table(
            self,
            "Records",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute="expiresAt",
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        dead_letters = sqs.Queue(self, "DeadLetters")
        jobs = sqs.Queue(
            self,
            "Jobs",
            visibility_timeout=cdk.Duration.seconds(60),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=2),
        )
        stream_failures = sqs.Queue(self, "StreamFailures")
        pool = cognito.UserPool(self, "Pool", sign_in_aliases=cognito.SignInAliases(email=True))
        client = pool.add_client("Web", auth_flows=cognito.AuthFlow(user_srp=True))

        def function(name: str, handler: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler=handler,
                code=lambda_.Code.from_asset(HANDLERS),
                timeout=cdk.Duration.seconds(5),
                environment={"TABLE_NAME": table.table_name, "WIRING_SETTING": "from-the-assembly"},
            )

        api_function = function("Api", "wiring.api")
        on_stream = function("OnStream", "wiring.on_stream")
        on_message = function("OnMessage", "wiring.on_message")
        for f in (api_function, on_stream, on_message):
            table.grant_read_write_data(f)
        on_stream.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=3,
                max_batching_window=cdk.Duration.seconds(1),
                retry_attempts=1,
                on_failure=sources.SqsDlq(stream_failures),
                filters=[
                    lambda_.FilterCriteria.filter(
                        {"dynamodb": {"Keys": {"pk": {"S": lambda_.FilterRule.begins_with("item#")}}}}
                    )
                ],
            )
        )
        on_message.add_event_source(
            sources.SqsEventSource(jobs, batch_size=5, report_batch_item_failures=True)
        )

        api = apigw.RestApi(self, "WiringApi", rest_api_name="wiring-api")
        authorizer = apigw.CognitoUserPoolsAuthorizer(self, "Authorizer", cognito_user_pools=[pool])
        echo = api.root.add_resource("echo").add_resource("{name}")
        echo.add_method("GET", apigw.LambdaIntegration(api_function))
        echo.add_resource("private").add_method(
            "POST",
            apigw.LambdaIntegration(api_function),
            authorizer=authorizer,
            authorization_type=apigw.AuthorizationType.COGNITO,
        )
        item_model = api.add_model(
            "ItemModel",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["pk", "sk"],
                properties={"pk": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING)},
            ),
        )
        api.root.add_resource("items").add_method(
            "POST",
            apigw.LambdaIntegration(api_function),
            request_validator=api.add_request_validator("Validator", validate_request_body=True),
            request_models={"application/json": item_model},
        )

        cdk.CfnOutput(self, "WiringApiUrl", value=api.url)
        cdk.CfnOutput(self, "JobsQueueUrl", value=jobs.queue_url)
        cdk.CfnOutput(self, "DeadLettersQueueUrl", value=dead_letters.queue_url)
        cdk.CfnOutput(self, "StreamFailuresQueueUrl", value=stream_failures.queue_url)
        cdk.CfnOutput(self, "TableName", value=table.table_name)
        cdk.CfnOutput(self, "UserPoolId", value=pool.user_pool_id)
        cdk.CfnOutput(self, "UserPoolClientId", value=client.user_pool_client_id)


app = cdk.App()
WiringStack(app, "WiringStack")
app.synth()
