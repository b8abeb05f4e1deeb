"""Create the resources of a cloud assembly locally: DynamoDB tables, SQS queues and Cognito user
pools in moto's server, Lambda functions as local execution environments, and API Gateway REST APIs
and event source mappings as plain descriptions that the gateway and the pollers serve.

Web ACLs associated with an API stage are compiled for the local WAF (local/waf.py); IAM roles and
policies, and credentials of each function's own, feed API Gateway's AWS_IAM check (local/iam.py).

Nothing here knows about the shopping cart: it reads CloudFormation resource types and properties, so
a route, a function or a setting added to a construct works locally without a change here.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from .assembly import CloudAssembly, StackArtifact
from .iam import IamAuthority, statements_of
from .intrinsics import IntrinsicError, TemplateEvaluator
from .lambda_runtime import FunctionSpec
from .waf import WebAcl

PYTHON_RUNTIME = re.compile(r"^python3\.\d+$")
LAMBDA_INTEGRATION_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+)/invocations$")
EXECUTE_API_URL = re.compile(
    r"https://(?P<api>[A-Za-z0-9-]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<stage>[^/\s]+)"
)
COGNITO_JWKS_URL = re.compile(
    r"https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/(?P<pool>[^/]+)/\.well-known/jwks\.json"
)
LOCAL_AUTH_FLOW = "ALLOW_USER_PASSWORD_AUTH"
API_STAGE_ARN = re.compile(r"^arn:[^:]+:apigateway:[^:]*::/restapis/(?P<api>[^/]+)/stages/(?P<stage>[^/]+)$")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the resource path, e.g. /cart/{product_id}
    integration: dict[str, Any]
    function_arn: str | None
    authorizer: dict[str, Any] | None
    authorization_type: str
    validator: dict[str, Any] = field(default_factory=dict)  # ValidateRequestBody/ValidateRequestParameters
    request_models: dict[str, dict[str, Any]] = field(default_factory=dict)  # content type -> JSON schema
    request_parameters: dict[str, bool] = field(default_factory=dict)  # method.request.* -> required


@dataclass
class RestApi:
    api_id: str
    name: str
    stage: str = "prod"
    routes: list[Route] = field(default_factory=list)
    region: str = "us-east-1"
    web_acl: WebAcl | None = None  # the web ACL associated with the stage
    iam: IamAuthority | None = None  # for methods with AuthorizationType AWS_IAM


@dataclass(frozen=True)
class EventSourceMapping:
    function_arn: str
    source_arn: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Table:
    name: str
    arn: str
    stream_arn: str | None
    ttl_attribute: str | None
    key_names: tuple[str, ...]


@dataclass(frozen=True)
class UserPool:
    pool_id: str
    arn: str
    region: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.pool_id}"


@dataclass
class LocalCloud:
    """Everything the assembly declares, created locally."""

    functions: list[FunctionSpec] = field(default_factory=list)
    apis: dict[str, RestApi] = field(default_factory=dict)
    event_source_mappings: list[EventSourceMapping] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)
    queues: dict[str, str] = field(default_factory=dict)  # arn -> url
    user_pools: dict[str, UserPool] = field(default_factory=dict)  # arn -> pool
    user_pool_clients: dict[str, str] = field(default_factory=dict)  # client id -> pool id
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack -> output name -> value
    # The response headers policy of a CloudFront distribution's default behaviour (the storefront).
    storefront_headers: list[tuple[str, str]] = field(default_factory=list)
    web_acls: dict[str, WebAcl] = field(default_factory=dict)  # arn -> web ACL
    # IP sets, regex pattern sets and rule groups that web ACL statements reference: arn -> properties.
    waf_references: dict[str, dict[str, Any]] = field(default_factory=dict)
    iam: IamAuthority = field(default_factory=lambda: IamAuthority("123456789012"))
    notes: list[str] = field(default_factory=list)  # what the assembly declares that is not emulated


class Provisioner:
    """Walks the assembly's stacks in dependency order and creates each resource once, on first use."""

    def __init__(
        self,
        assembly: CloudAssembly,
        *,
        aws_endpoint: str,
        public_url: str,
        region: str,
        account: str = "123456789012",
    ) -> None:
        self.assembly = assembly
        self.region = region
        self.account = account
        self.aws_endpoint = aws_endpoint
        self.public_url = public_url.rstrip("/")
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=region
        )
        self._dynamodb = session.client("dynamodb", endpoint_url=aws_endpoint)
        self._sqs = session.client("sqs", endpoint_url=aws_endpoint)
        self._cognito = session.client("cognito-idp", endpoint_url=aws_endpoint)
        self._attributes: dict[tuple[str, str], dict[str | None, Any]] = {}
        self._exports: dict[str, Any] = {}
        self._evaluators: dict[str, TemplateEvaluator] = {}
        self.cloud = LocalCloud(iam=IamAuthority(account))

    # --- public -------------------------------------------------------------------------------

    def provision(self) -> LocalCloud:
        for stack in self.assembly.stacks:
            for logical_id in stack.resources:
                self._resource(stack, logical_id)
            self._collect_outputs(stack)
        return self.cloud

    def localise(self, value: Any) -> Any:
        """Points AWS URLs that the local stack serves elsewhere at their local address."""
        if isinstance(value, dict):
            return {key: self.localise(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.localise(item) for item in value]
        if not isinstance(value, str):
            return value
        value = EXECUTE_API_URL.sub(lambda m: f"{self.public_url}/api/{m.group('api')}", value)
        # Local Cognito writes the real issuer into its tokens but serves its keys from moto's server.
        return COGNITO_JWKS_URL.sub(
            lambda m: f"{self.aws_endpoint}/{m.group('pool')}/.well-known/jwks.json", value
        )

    # --- evaluation ---------------------------------------------------------------------------

    def _evaluator(self, stack: StackArtifact) -> TemplateEvaluator:
        if stack.name not in self._evaluators:
            self._evaluators[stack.name] = TemplateEvaluator(
                stack.template,
                pseudo_parameters={
                    "AWS::Region": self.region,
                    "AWS::AccountId": self.account,
                    "AWS::Partition": "aws",
                    "AWS::URLSuffix": "amazonaws.com",
                    "AWS::StackName": stack.name,
                    "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{stack.name}/local",
                    "AWS::NotificationARNs": "",
                },
                resolve_resource=lambda lid, attr: self._attribute(stack, lid, attr),
                resolve_import=self._import,
                resolve_stack_output=self._stack_output,
            )
        return self._evaluators[stack.name]

    def _import(self, name: str) -> Any:
        if name not in self._exports:
            raise KeyError(f"no stack exports {name}")
        return self._exports[name]

    def _stack_output(self, stack_name: str, output_name: str) -> Any:
        outputs = self.cloud.outputs.get(stack_name)
        if outputs is None or output_name not in outputs:
            raise KeyError(f"stack {stack_name} has no output {output_name} (yet)")
        return outputs[output_name]

    def _collect_outputs(self, stack: StackArtifact) -> None:
        evaluator = self._evaluator(stack)
        outputs: dict[str, Any] = {}
        for name, output in stack.template.get("Outputs", {}).items():
            if "Condition" in output and not evaluator.condition(output["Condition"]):
                continue
            value = evaluator.resolve(output["Value"])
            outputs[name] = value
            if "Export" in output:
                self._exports[str(evaluator.resolve(output["Export"]["Name"]))] = value
        self.cloud.outputs[stack.name] = outputs

    def _attribute(self, stack: StackArtifact, logical_id: str, attribute: str | None) -> Any:
        attributes = self._resource(stack, logical_id)
        if attribute in attributes:
            return attributes[attribute]
        if attribute == "Arn":
            return f"arn:aws:local:{self.region}:{self.account}:{stack.name}/{logical_id}"
        return f"{logical_id}.{attribute}"

    def _resource(self, stack: StackArtifact, logical_id: str) -> dict[str | None, Any]:
        key = (stack.name, logical_id)
        if key not in self._attributes:
            resource = stack.resources[logical_id]
            evaluator = self._evaluator(stack)
            if "Condition" in resource and not evaluator.condition(resource["Condition"]):
                self._attributes[key] = {None: ""}
            else:
                create = self._CREATORS.get(resource["Type"], Provisioner._create_placeholder)
                self._attributes[key] = {None: logical_id}  # guards against reference cycles
                self._attributes[key] = create(self, stack, logical_id, resource)
        return self._attributes[key]

    def _properties(self, stack: StackArtifact, resource: dict[str, Any]) -> dict[str, Any]:
        return self._evaluator(stack).resolve(resource.get("Properties", {}))

    def _physical_name(self, stack: StackArtifact, logical_id: str, limit: int = 64) -> str:
        return f"{stack.name}-{logical_id}"[:limit]

    # --- resource types -----------------------------------------------------------------------

    def _create_placeholder(self, stack: StackArtifact, logical_id: str, _resource: dict[str, Any]) -> dict:
        return {None: logical_id}

    def _create_table(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        name = properties.get("TableName") or self._physical_name(stack, logical_id, 255)
        billing = properties.get("BillingMode", "PROVISIONED")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST" if billing == "PAY_PER_REQUEST" else "PROVISIONED",
        }
        if request["BillingMode"] == "PROVISIONED":
            request["ProvisionedThroughput"] = properties.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        stream = properties.get("StreamSpecification")
        if stream and stream.get("StreamViewType"):
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        indexes = [_index(i, request["BillingMode"]) for i in properties.get("GlobalSecondaryIndexes", [])]
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        local_indexes = [_index(i, None) for i in properties.get("LocalSecondaryIndexes", [])]
        if local_indexes:
            request["LocalSecondaryIndexes"] = local_indexes
        description = self._dynamodb.create_table(**request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification") or {}
        ttl_attribute = ttl.get("AttributeName") if ttl.get("Enabled") else None
        if ttl_attribute:
            self._dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
            )
        table = Table(
            name=name,
            arn=description["TableArn"],
            stream_arn=description.get("LatestStreamArn"),
            ttl_attribute=ttl_attribute,
            key_names=tuple(k["AttributeName"] for k in properties["KeySchema"]),
        )
        self.cloud.tables[name] = table
        return {None: name, "Arn": table.arn, "StreamArn": table.stream_arn}

    def _create_queue(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        fifo = bool(properties.get("FifoQueue"))
        name = properties.get("QueueName") or self._physical_name(stack, logical_id, 75 if fifo else 80)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {
            key: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in properties.items()
            if key
            in {
                "DelaySeconds",
                "MaximumMessageSize",
                "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds",
                "VisibilityTimeout",
                "RedrivePolicy",
                "FifoQueue",
                "ContentBasedDeduplication",
            }
        }
        url = self._sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.cloud.queues[arn] = url
        return {None: url, "Arn": arn, "QueueName": name, "QueueUrl": url}

    def _create_user_pool(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        request: dict[str, Any] = {
            "PoolName": properties.get("UserPoolName") or self._physical_name(stack, logical_id)
        }
        for key in ("UsernameAttributes", "AliasAttributes", "AutoVerifiedAttributes", "Policies"):
            if key in properties:
                request[key] = properties[key]
        pool = self._cognito.create_user_pool(**request)["UserPool"]
        user_pool = UserPool(pool_id=pool["Id"], arn=pool["Arn"], region=self.region)
        self.cloud.user_pools[user_pool.arn] = user_pool
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
        return {
            None: pool["Id"],
            "Arn": pool["Arn"],
            "UserPoolId": pool["Id"],
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
        }

    def _create_user_pool_client(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        properties = self._properties(stack, resource)
        flows = list(properties.get("ExplicitAuthFlows", []))
        # Scripts and tests sign in locally with USER_PASSWORD_AUTH: moto's SRP accepts any password.
        if LOCAL_AUTH_FLOW not in flows:
            flows.append(LOCAL_AUTH_FLOW)
        client = self._cognito.create_user_pool_client(
            UserPoolId=properties["UserPoolId"],
            ClientName=properties.get("ClientName") or logical_id,
            GenerateSecret=bool(properties.get("GenerateSecret", False)),
            ExplicitAuthFlows=flows,
        )["UserPoolClient"]
        self.cloud.user_pool_clients[client["ClientId"]] = properties["UserPoolId"]
        return {None: client["ClientId"], "ClientId": client["ClientId"], "Name": client["ClientName"]}

    def _create_user_pool_group(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        properties = self._properties(stack, resource)
        name = properties.get("GroupName") or logical_id
        request = {"UserPoolId": properties["UserPoolId"], "GroupName": name}
        if "Precedence" in properties:
            request["Precedence"] = int(properties["Precedence"])
        if "Description" in properties:
            request["Description"] = properties["Description"]
        self._cognito.create_group(**request)
        return {None: name}

    def _create_function(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        name = properties.get("FunctionName") or self._physical_name(stack, logical_id)
        arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        code_dir = self.assembly.asset_path(resource)
        runtime = str(properties.get("Runtime", ""))
        if code_dir is not None and PYTHON_RUNTIME.match(runtime):
            variables = properties.get("Environment", {}).get("Variables", {})
            reserved = properties.get("ReservedConcurrentExecutions")
            role = properties.get("Role")
            # Credentials of its own, standing for its execution role (API Gateway's AWS_IAM check).
            credentials = self.cloud.iam.issue(name, str(role) if role else None)
            self.cloud.functions.append(
                FunctionSpec(
                    name=name,
                    arn=arn,
                    handler=properties["Handler"],
                    code_dir=Path(code_dir),
                    environment={
                        **{k: str(v) for k, v in self.localise(variables).items()},
                        **credentials.environment(),
                    },
                    timeout_seconds=int(properties.get("Timeout", 3)),
                    memory_mb=int(properties.get("MemorySize", 128)),
                    max_concurrency=min(int(reserved), 4) if reserved else 4,
                )
            )
        return {None: name, "Arn": arn}

    def _create_event_source_mapping(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        properties = self._properties(stack, resource)
        function = str(properties["FunctionName"])
        if not function.startswith("arn:"):
            function = f"arn:aws:lambda:{self.region}:{self.account}:function:{function}"
        self.cloud.event_source_mappings.append(
            EventSourceMapping(
                function_arn=function, source_arn=properties["EventSourceArn"], properties=properties
            )
        )
        return {None: logical_id}

    def _create_rest_api(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        name = str(properties.get("Name") or logical_id)
        api_id = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or logical_id.lower()
        while api_id in self.cloud.apis:
            api_id += "-x"
        self.cloud.apis[api_id] = RestApi(api_id=api_id, name=name, region=self.region, iam=self.cloud.iam)
        return {None: api_id, "RootResourceId": f"{api_id}:/"}

    def _create_api_resource(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        parent = str(properties["ParentId"])
        api_id, _, parent_path = parent.partition(":")
        path = parent_path.rstrip("/") + "/" + properties["PathPart"]
        return {None: f"{api_id}:{path}"}

    def _create_stage(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        api = self.cloud.apis.get(str(properties["RestApiId"]))
        if api is not None and properties.get("StageName"):
            api.stage = properties["StageName"]
        return {None: properties.get("StageName", logical_id)}

    def _create_authorizer(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        return {None: logical_id, "_definition": self._properties(stack, resource)}

    def _create_request_validator(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        return {None: logical_id, "_definition": self._properties(stack, resource)}

    def _create_model(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        return {None: properties.get("Name") or logical_id, "_schema": properties.get("Schema") or {}}

    def _create_method(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        raw = resource["Properties"]
        evaluator = self._evaluator(stack)
        resource_id = str(evaluator.resolve(raw["ResourceId"]))
        api_id, _, path = resource_id.partition(":")
        authorizer = None
        if "AuthorizerId" in raw:
            authorizer_ref = raw["AuthorizerId"].get("Ref")
            authorizer = self._resource(stack, authorizer_ref)["_definition"] if authorizer_ref else None
        validator: dict[str, Any] = {}
        validator_ref = (raw.get("RequestValidatorId") or {}).get("Ref")
        if validator_ref:
            validator = self._resource(stack, validator_ref)["_definition"]
        request_models = {
            content_type: self._resource(stack, model["Ref"])["_schema"]
            for content_type, model in (raw.get("RequestModels") or {}).items()
            if isinstance(model, dict) and "Ref" in model
        }
        integration = evaluator.resolve(raw.get("Integration", {}))
        uri = str(integration.get("Uri", ""))
        match = LAMBDA_INTEGRATION_URI.search(uri)
        self.cloud.apis[api_id].routes.append(
            Route(
                method=raw["HttpMethod"].upper(),
                path=path or "/",
                integration=integration,
                function_arn=match.group("arn") if match else None,
                authorizer=authorizer,
                authorization_type=raw.get("AuthorizationType", "NONE"),
                validator=validator,
                request_models=request_models,
                request_parameters={k: bool(v) for k, v in (raw.get("RequestParameters") or {}).items()},
            )
        )
        return {None: logical_id}

    def _create_response_headers_policy(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        config = self._properties(stack, resource).get("ResponseHeadersPolicyConfig", {})
        return {None: logical_id, "_headers": response_policy_headers(config)}

    def _create_distribution(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        behaviour = resource["Properties"]["DistributionConfig"].get("DefaultCacheBehavior", {})
        policy = behaviour.get("ResponseHeadersPolicyId")
        if isinstance(policy, dict) and "Ref" in policy:
            self.cloud.storefront_headers = self._resource(stack, policy["Ref"])["_headers"]
        return {None: logical_id, "DomainName": "localhost"}

    # --- WAF ---------------------------------------------------------------------------------------

    def _waf_arn(self, stack: StackArtifact, logical_id: str, kind: str, properties: dict) -> tuple[str, str]:
        name = str(properties.get("Name") or self._physical_name(stack, logical_id, 128))
        scope = "global" if properties.get("Scope") == "CLOUDFRONT" else "regional"
        resource_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{stack.name}/{logical_id}"))
        return f"arn:aws:wafv2:{self.region}:{self.account}:{scope}/{kind}/{name}/{resource_id}", resource_id

    def _waf_attributes(self, arn: str, resource_id: str, properties: dict) -> dict:
        name = arn.rsplit("/", 2)[-2]
        scope = properties.get("Scope", "REGIONAL")
        return {None: f"{name}|{resource_id}|{scope}", "Arn": arn, "Id": resource_id, "Name": name}

    def _create_waf_reference(self, kind: str, stack: StackArtifact, logical_id: str, resource: dict) -> dict:
        properties = self._properties(stack, resource)
        arn, resource_id = self._waf_arn(stack, logical_id, kind, properties)
        self.cloud.waf_references[arn] = properties
        return self._waf_attributes(arn, resource_id, properties)

    def _create_ip_set(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        return self._create_waf_reference("ipset", stack, logical_id, resource)

    def _create_regex_pattern_set(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        return self._create_waf_reference("regexpatternset", stack, logical_id, resource)

    def _create_rule_group(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        return self._create_waf_reference("rulegroup", stack, logical_id, resource)

    def _create_web_acl(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._properties(stack, resource)
        arn, resource_id = self._waf_arn(stack, logical_id, "webacl", properties)
        self.cloud.web_acls[arn] = WebAcl(
            properties, arn=arn, resolve_reference=self.cloud.waf_references.get
        )
        attributes = self._waf_attributes(arn, resource_id, properties)
        return {**attributes, "LabelNamespace": f"awswaf:{self.account}:webacl:{attributes['Name']}:"}

    def _create_web_acl_association(
        self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]
    ) -> dict:
        properties = self._properties(stack, resource)
        target, acl_arn = str(properties["ResourceArn"]), str(properties["WebACLArn"])
        stage = API_STAGE_ARN.match(target)
        api = self.cloud.apis.get(stage.group("api")) if stage else None
        acl = self.cloud.web_acls.get(acl_arn)
        if api is None or acl is None or stage is None or api.stage != stage.group("stage"):
            # Only API stages are served locally, and only web ACLs of the assembly can be evaluated.
            self.cloud.notes.append(f"web ACL association {stack.name}/{logical_id} is not applied locally")
        else:
            api.web_acl = acl
        return {None: logical_id}

    # --- IAM ---------------------------------------------------------------------------------------

    def _iam_properties(self, stack: StackArtifact, logical_id: str, resource: dict) -> dict | None:
        try:
            return self._properties(stack, resource)
        except (IntrinsicError, KeyError) as error:
            # A policy the local stack cannot resolve grants nothing locally.
            self.cloud.notes.append(f"IAM {stack.name}/{logical_id} not evaluated: {error}")
            return None

    def _create_role(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._iam_properties(stack, logical_id, resource) or {}
        name = str(properties.get("RoleName") or self._physical_name(stack, logical_id))
        arn = f"arn:aws:iam::{self.account}:role{properties.get('Path', '/')}{name}"
        inline = [
            statement
            for policy in properties.get("Policies") or []
            for statement in statements_of(policy.get("PolicyDocument"))
        ]
        self.cloud.iam.add_role(
            name, arn, inline, [str(a) for a in properties.get("ManagedPolicyArns") or []]
        )
        return {
            None: name,
            "Arn": arn,
            "RoleId": f"AROA{uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:17].upper()}",
        }

    def _create_policy(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._iam_properties(stack, logical_id, resource)
        if properties is not None:
            roles = [str(r) for r in properties.get("Roles") or []]
            self.cloud.iam.attach_policy(properties.get("PolicyDocument") or {}, roles)
        return {None: logical_id, "Id": logical_id}

    def _create_managed_policy(self, stack: StackArtifact, logical_id: str, resource: dict[str, Any]) -> dict:
        properties = self._iam_properties(stack, logical_id, resource) or {}
        name = str(properties.get("ManagedPolicyName") or self._physical_name(stack, logical_id, 128))
        arn = f"arn:aws:iam::{self.account}:policy{properties.get('Path', '/')}{name}"
        roles = [str(r) for r in properties.get("Roles") or []]
        self.cloud.iam.add_managed_policy(arn, properties.get("PolicyDocument") or {}, roles)
        return {None: arn, "PolicyArn": arn}

    _CREATORS = {
        "AWS::DynamoDB::Table": _create_table,
        "AWS::DynamoDB::GlobalTable": _create_table,
        "AWS::SQS::Queue": _create_queue,
        "AWS::Cognito::UserPool": _create_user_pool,
        "AWS::Cognito::UserPoolClient": _create_user_pool_client,
        "AWS::Cognito::UserPoolGroup": _create_user_pool_group,
        "AWS::Lambda::Function": _create_function,
        "AWS::Lambda::EventSourceMapping": _create_event_source_mapping,
        "AWS::ApiGateway::RestApi": _create_rest_api,
        "AWS::ApiGateway::Resource": _create_api_resource,
        "AWS::ApiGateway::Stage": _create_stage,
        "AWS::ApiGateway::Authorizer": _create_authorizer,
        "AWS::ApiGateway::Method": _create_method,
        "AWS::ApiGateway::RequestValidator": _create_request_validator,
        "AWS::ApiGateway::Model": _create_model,
        "AWS::CloudFront::ResponseHeadersPolicy": _create_response_headers_policy,
        "AWS::CloudFront::Distribution": _create_distribution,
        "AWS::WAFv2::WebACL": _create_web_acl,
        "AWS::WAFv2::WebACLAssociation": _create_web_acl_association,
        "AWS::WAFv2::IPSet": _create_ip_set,
        "AWS::WAFv2::RegexPatternSet": _create_regex_pattern_set,
        "AWS::WAFv2::RuleGroup": _create_rule_group,
        "AWS::IAM::Role": _create_role,
        "AWS::IAM::Policy": _create_policy,
        "AWS::IAM::ManagedPolicy": _create_managed_policy,
    }


def _index(definition: dict[str, Any], billing_mode: str | None) -> dict[str, Any]:
    index = {k: definition[k] for k in ("IndexName", "KeySchema", "Projection") if k in definition}
    if billing_mode == "PROVISIONED":
        index["ProvisionedThroughput"] = definition.get(
            "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        )
    return index


def response_policy_headers(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers a CloudFront response headers policy adds to each response."""
    headers: list[tuple[str, str]] = []
    security = config.get("SecurityHeadersConfig", {})
    if "ContentSecurityPolicy" in security:
        headers.append(
            ("Content-Security-Policy", security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
        )
    if "ContentTypeOptions" in security:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if "FrameOptions" in security:
        headers.append(("X-Frame-Options", security["FrameOptions"]["FrameOption"]))
    if "ReferrerPolicy" in security:
        headers.append(("Referrer-Policy", security["ReferrerPolicy"]["ReferrerPolicy"]))
    if "StrictTransportSecurity" in security:
        hsts = security["StrictTransportSecurity"]
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        headers.append(("Strict-Transport-Security", value))
    if "XSSProtection" in security:
        xss = security["XSSProtection"]
        value = "1" if xss.get("Protection") else "0"
        if xss.get("Protection") and xss.get("ModeBlock"):
            value += "; mode=block"
        elif xss.get("Protection") and xss.get("ReportUri"):
            value += f"; report={xss['ReportUri']}"
        headers.append(("X-XSS-Protection", value))
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers.append((item["Header"], item["Value"]))
    return headers
