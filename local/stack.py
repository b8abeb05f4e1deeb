"""The whole local stack: moto's server, the assembly's resources, Lambda environments, the gateway,
the event source pollers and the TTL sweeper, started and stopped together."""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import boto3
from moto.server import ThreadedMotoServer

from .apigateway import ApiGatewayEmulator, CognitoTokenValidator
from .assembly import CloudAssembly
from .cloud import LocalCloud, Provisioner, UserPool
from .event_sources import DynamoDbStreamPoller, SqsPoller, TtlDeletions, TtlSweeper
from .gateway import COGNITO_PATH, LocalGateway
from .lambda_runtime import LambdaService
from .moto_atomicity import make_dynamodb_requests_atomic

DEFAULT_PASSWORD = "Passw0rd!"
SEED_USERS = (("shopper@example.com", False), ("admin@example.com", True))
ACCOUNT = "123456789012"


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def same_origin_path(value: Any, origin: str) -> Any:
    """`http://localhost:8080/api/x` -> `/api/x` when `origin` is `http://localhost:8080`."""
    if isinstance(value, str) and value.startswith(origin + "/"):
        return value.removeprefix(origin)
    return value


def absolute_urls(config: dict[str, Any], origin: str) -> dict[str, Any]:
    """The storefront's config with its same-origin paths resolved against `origin`, as the browser
    does (for clients outside a browser: tests, benchmarks)."""
    return {
        key: origin.rstrip("/") + value if isinstance(value, str) and value.startswith("/") else value
        for key, value in config.items()
    }


class LocalStack:
    def __init__(
        self,
        assembly_dir: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        static_dir: Path | str | None = None,
        region: str = "us-east-1",
        log: TextIO | None = None,
        access_log: bool = True,
        seed_users: bool = True,
        ttl_interval: float = 5.0,
    ) -> None:
        self.assembly = CloudAssembly(assembly_dir)
        self.host = host
        self.port = port
        self.static_dir = Path(static_dir).resolve() if static_dir else None
        self.region = region
        self.log = log or sys.stdout
        self._access_log = access_log
        self._seed_users = seed_users
        self._ttl_interval = ttl_interval
        self.cloud = LocalCloud()
        self.api_emulators: dict[str, ApiGatewayEmulator] = {}
        self.users: list[tuple[str, bool]] = []
        self._pollers: list[Any] = []
        self._moto: ThreadedMotoServer | None = None
        self._gateway: LocalGateway | None = None
        self._lambdas: LambdaService | None = None
        self._ttl: TtlSweeper | None = None
        self._session: boto3.session.Session | None = None
        self.aws_endpoint = ""

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        make_dynamodb_requests_atomic()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        moto_host, moto_port = self._moto.get_host_and_port()
        self.aws_endpoint = f"http://{moto_host}:{moto_port}"
        self._session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=self.region
        )
        # Bind first: with port 0 the real port is only known now, and functions need the URL.
        self._gateway = LocalGateway(
            (self.host, self.port),
            self,
            cognito_endpoint=self.aws_endpoint,
            static_dir=self.static_dir,
            access_log=self.log if self._access_log else None,
        )
        self.port = self._gateway.server_address[1]

        provisioner = Provisioner(
            self.assembly,
            aws_endpoint=self.aws_endpoint,
            public_url=self.url,
            region=self.region,
            account=ACCOUNT,
        )
        self.cloud = provisioner.provision()
        self.cloud.outputs = provisioner.localise(self.cloud.outputs)

        self._lambdas = LambdaService(self._function_base_environment(), self.log)
        for spec in self.cloud.functions:
            self._lambdas.add(spec)
        validator = CognitoTokenValidator(
            jwks_url_for=lambda pool: f"{self.aws_endpoint}/{pool.pool_id}/.well-known/jwks.json",
            clients_of=lambda pool_id: {c for c, p in self.cloud.user_pool_clients.items() if p == pool_id},
        )
        for api_id, api in self.cloud.apis.items():
            self.api_emulators[api_id] = ApiGatewayEmulator(
                api,
                invoke=self.invoke,
                user_pools=self.cloud.user_pools,
                token_validator=validator,
                account=ACCOUNT,
                domain_name=f"localhost:{self.port}",
            )
        self._start_pollers()
        if self._seed_users:
            self._create_seed_users()
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        # One environment per function that something invokes (not, say, a custom resource's handler),
        # started now so that the first request does not pay the cold start.
        invoked = {r.function_arn for api in self.cloud.apis.values() for r in api.routes if r.function_arn}
        invoked |= {m.function_arn for m in self.cloud.event_source_mappings}
        self._lambdas.prewarm(invoked)
        return self

    def stop(self) -> None:
        for poller in self._pollers:
            poller.stop()
        if self._gateway is not None:
            self._gateway.shutdown()
            self._gateway.server_close()
        for poller in self._pollers:
            poller.join(timeout=5)
        if self._lambdas is not None:
            self._lambdas.shutdown()
        if self._moto is not None:
            self._moto.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- wiring -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def _function_base_environment(self) -> dict[str, str]:
        keep = {
            k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR"}
        }
        return {
            **keep,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_SESSION_TOKEN": "local",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python_local",
            # There is no X-Ray daemon locally.
            "POWERTOOLS_TRACE_DISABLED": "true",
        }

    def invoke(self, function_arn: str, event: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
        assert self._lambdas is not None
        try:
            function = self._lambdas.get(function_arn)
        except KeyError:
            return None, {"errorType": "ResourceNotFoundException", "errorMessage": function_arn}
        result = function.invoke(event)
        return result.payload, result.error

    def _start_pollers(self) -> None:
        assert self._session is not None
        dynamodb = self._session.client("dynamodb", endpoint_url=self.aws_endpoint)
        streams = self._session.client("dynamodbstreams", endpoint_url=self.aws_endpoint)
        sqs = self._session.client("sqs", endpoint_url=self.aws_endpoint)
        deletions = TtlDeletions()
        tables_by_stream = {t.stream_arn: t for t in self.cloud.tables.values() if t.stream_arn}
        for mapping in self.cloud.event_source_mappings:
            if mapping.properties.get("Enabled") is False:
                continue
            if mapping.source_arn in tables_by_stream:
                self._pollers.append(
                    DynamoDbStreamPoller(
                        mapping,
                        tables_by_stream[mapping.source_arn],
                        streams=streams,
                        sqs=sqs,
                        queue_urls=self.cloud.queues,
                        invoke=self.invoke,
                        ttl_deletions=deletions,
                        region=self.region,
                    )
                )
            elif mapping.source_arn in self.cloud.queues:
                concurrency = int(
                    (mapping.properties.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)
                )
                for index in range(max(1, min(concurrency, 2))):
                    self._pollers.append(
                        SqsPoller(
                            mapping,
                            self.cloud.queues[mapping.source_arn],
                            sqs=self._session.client("sqs", endpoint_url=self.aws_endpoint),
                            invoke=self.invoke,
                            region=self.region,
                            worker_index=index,
                        )
                    )
            else:
                print(f"local: event source {mapping.source_arn} is not emulated", file=self.log)
        self._ttl = TtlSweeper(
            list(self.cloud.tables.values()),
            dynamodb=dynamodb,
            deletions=deletions,
            interval=self._ttl_interval,
        )
        self._pollers.append(self._ttl)
        for poller in self._pollers:
            poller.start()

    def _create_seed_users(self) -> None:
        assert self._session is not None
        if not self.cloud.user_pools:
            return
        cognito = self._session.client("cognito-idp", endpoint_url=self.aws_endpoint)
        pool: UserPool = next(iter(self.cloud.user_pools.values()))
        admin_group = next(
            (s.environment["ADMIN_GROUP"] for s in self.cloud.functions if "ADMIN_GROUP" in s.environment),
            "admin",
        )
        groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool.pool_id)["Groups"]}
        if admin_group not in groups:
            cognito.create_group(UserPoolId=pool.pool_id, GroupName=admin_group)
        for email, is_admin in SEED_USERS:
            cognito.admin_create_user(
                UserPoolId=pool.pool_id,
                Username=email,
                UserAttributes=[
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=pool.pool_id, Username=email, Password=DEFAULT_PASSWORD, Permanent=True
            )
            if is_admin:
                cognito.admin_add_user_to_group(
                    UserPoolId=pool.pool_id, Username=email, GroupName=admin_group
                )
            self.users.append((email, is_admin))

    # --- what the gateway serves (its Backend protocol) -------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        """The storefront's runtime configuration: every stack output, keyed in camelCase."""
        config: dict[str, Any] = {"region": self.region}
        for outputs in self.cloud.outputs.values():
            for name, value in outputs.items():
                # Skip the outputs CDK adds by itself (e.g. RestApi endpoints), named with a hash.
                if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) and not re.search(r"[0-9A-F]{8}$", name):
                    config[_camel(name)] = value
        config["userPoolEndpoint"] = self.url + COGNITO_PATH
        # The browser gets same-origin paths, not this machine's name for itself: the shop then works
        # at whatever address it was opened (localhost, 127.0.0.1, another machine with HOST=0.0.0.0).
        config = {key: same_origin_path(value, self.url) for key, value in config.items()}
        # moto cannot check an SRP proof (any password would do), so the storefront signs in with
        # USER_PASSWORD_AUTH locally, which moto checks; on AWS it keeps Cognito's default, SRP.
        config["authFlowType"] = "USER_PASSWORD_AUTH"
        return config

    @property
    def storefront_headers(self) -> list[tuple[str, str]]:
        return self.cloud.storefront_headers

    def api(self, api_id: str) -> ApiGatewayEmulator | None:
        return self.api_emulators.get(api_id)

    def status(self) -> dict[str, Any]:
        assert self._lambdas is not None
        return {
            "url": self.url,
            "awsEndpoint": self.aws_endpoint,
            "functions": {
                f.spec.name: {"invocations": f.invocations, "coldStarts": f.cold_starts}
                for f in self._lambdas.functions
            },
            "pollers": {p.name: {"idle": p.idle.is_set()} for p in self._pollers},
            "ttlDeleted": self._ttl.deleted if self._ttl else 0,
            "webAcls": {acl.name: acl.status() for acl in self.cloud.web_acls.values()},
            "credentials": self.cloud.iam.status(),
            "notEmulated": self.cloud.notes,
        }

    def advance_time(self, seconds: float) -> dict[str, Any]:
        """Acts as if `seconds` had passed for TTL expiry, queue visibility timeouts and WAF rate windows."""
        expired = self._ttl.sweep(time.time() + seconds) if self._ttl else 0
        released = sum(p.advance_time(seconds) for p in self._pollers if isinstance(p, SqsPoller))
        for acl in self.cloud.web_acls.values():
            acl.advance_time(seconds)  # the rate-based rules' windows
        return {"advancedSeconds": seconds, "expiredItems": expired, "releasedMessages": released}

    def wait_until_idle(self, timeout: float = 120.0) -> bool:
        """Waits until every stream and queue poller has delivered what it has read (for tests)."""
        deadline = time.monotonic() + timeout
        pollers = [p for p in self._pollers if not isinstance(p, TtlSweeper)]
        by_queue: dict[str, list[SqsPoller]] = {}
        for poller in pollers:
            if isinstance(poller, SqsPoller):
                by_queue.setdefault(poller.queue_url, []).append(poller)
        while time.monotonic() < deadline:
            # Two consecutive settled observations a poll apart: nothing was in flight in between.
            if self._settled(pollers, by_queue):
                time.sleep(0.6)
                if self._settled(pollers, by_queue):
                    return True
            time.sleep(0.1)
        return False

    def _settled(self, pollers: list[Any], by_queue: dict[str, list[SqsPoller]]) -> bool:
        if not all(p.idle.is_set() for p in pollers):
            return False
        # A poller's idle flag stays set while a receive collects a batch (its batching window) and
        # before it sees a message made visible again: the queue itself says whether work is left.
        return all(self._queue_settled(queue_pollers) for queue_pollers in by_queue.values())

    @staticmethod
    def _queue_settled(pollers: list[SqsPoller]) -> bool:
        visible, not_visible = pollers[0].queue_depths()
        return visible == 0 and not_visible <= sum(p.failed_in_flight for p in pollers)
