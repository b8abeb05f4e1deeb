"""One place for the Lambda defaults of every construct in this library.

Every function is Python 3.13 on arm64 with active X-Ray tracing, the public Powertools layer, its own
IAM role (no managed policies: permissions come from ``grant_*`` calls) and its own log group with a
retention. Handler code comes from ``runtime/``, located through ``importlib.resources`` so it works
both from the repository (editable install) and from an installed wheel (``shopping_cart.runtime``).

Layer order: Lambda extracts a function's layers in the order listed, and a later layer overwrites
the files of an earlier one in /opt. The public Powertools layer ships its own PyJWT and cryptography,
so the project's dependencies layer must come last; CDK renders ``Layers`` in its own order, so
:func:`service_function` writes the property itself: public layers first, this project's layers last.

The dependencies layer is built by pip once per content of runtime/requirements.txt and kept in a
cache folder (:func:`layer_cache_dir`), so that a later synth needs no package index.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    BundlingOptions,
    DockerImage,
    Duration,
    IgnoreMode,
    ILocalBundling,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm

from constructs import Construct, IValidation

from .overrides import override_props
from .runtime.shared import config

#: The Powertools for AWS Lambda (Python) release of the public layer. Keep it equal to the
#: ``aws-lambda-powertools`` pin in requirements.txt (a test checks it).
POWERTOOLS_VERSION = "3.37.0"

RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
#: Python version and platform of the dependencies layer; must match RUNTIME and ARCHITECTURE.
LAYER_PYTHON_VERSION = "3.13"
LAYER_PLATFORM = "manylinux2014_aarch64"

#: Public SSM parameter that holds the ARN of the Powertools layer in every commercial region.
POWERTOOLS_LAYER_PARAMETER = (
    f"/aws/service/powertools/python/arm64/python{LAYER_PYTHON_VERSION}/{POWERTOOLS_VERSION}"
)

#: Handler entry points (docs/DESIGN.md).
CART_API_HANDLER = "cart.api.handler"
AGGREGATOR_HANDLER = "cart.aggregator.handler"
DELETE_WORKER_HANDLER = "cart.delete_worker.handler"
PRODUCT_HANDLER = "products.api.handler"

#: The name ``shared.config.FUNCTIONS`` knows each handler's environment by.
_SCHEMA_FUNCTION = {
    CART_API_HANDLER: "api",
    AGGREGATOR_HANDLER: "aggregator",
    DELETE_WORKER_HANDLER: "delete_worker",
    PRODUCT_HANDLER: "products",
}

#: Never shipped in a function asset (git-ignore syntax, anchored at runtime/).
_COMMON_EXCLUDES = ("__pycache__/", "*.pyc", "tests/", "/requirements.txt", ".pytest_cache/")


def runtime_root() -> Path:
    """The folder of the Lambda code: the repo's ``runtime/`` or ``site-packages/shopping_cart/runtime``."""
    try:
        root = files("shopping_cart.runtime")
    except ModuleNotFoundError:
        # An editable install maps ``shopping_cart.runtime`` only once runtime/__init__.py exists;
        # until then, look where the wheel and the repository keep it.
        here = Path(__file__).resolve().parent
        for candidate in (here / "runtime", here.parent.parent / "runtime"):
            if (candidate / "requirements.txt").is_file():
                return candidate
        raise
    if isinstance(root, Path):
        return root
    # A namespace package (no runtime/__init__.py) gives a MultiplexedPath over one folder.
    return Path(str(root.joinpath("requirements.txt"))).parent


def cart_code() -> lambda_.Code:
    """Asset of the cart functions: runtime/ without the product mock."""
    return lambda_.Code.from_asset(
        str(runtime_root()), exclude=["/products/", *_COMMON_EXCLUDES], ignore_mode=IgnoreMode.GIT
    )


def product_code() -> lambda_.Code:
    """Asset of the product mock: runtime/ without the cart."""
    return lambda_.Code.from_asset(
        str(runtime_root()), exclude=["/cart/", *_COMMON_EXCLUDES], ignore_mode=IgnoreMode.GIT
    )


def powertools_layer(
    scope: Construct, construct_id: str = "PowertoolsLayer", *, arn: str | None = None
) -> lambda_.ILayerVersion:
    """The public Powertools layer: ``arn`` when given, else resolved at deploy time from Powertools'
    public SSM parameter (which is not published in every region: pass the ARN there)."""
    if not arn:
        arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)


def layer_cache_dir() -> Path:
    """Where built dependency layers are kept: $SHOPPING_CART_LAYER_CACHE, else the user's cache folder."""
    configured = os.environ.get("SHOPPING_CART_LAYER_CACHE", "").strip()
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "serverless-shopping-cart" / "layers"


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Builds the dependencies layer with the local pip, no Docker.

    ``pip install --platform manylinux2014_aarch64 --only-binary=:all:`` downloads the arm64 wheels for
    CPython 3.13 whatever the machine it runs on, so the layer matches the functions.
    """

    def __init__(self, requirements: Path, cache_dir: Path | None = None) -> None:
        self._requirements = requirements
        self._cache_dir = cache_dir

    def cache_key(self) -> str:
        """The hash of everything that decides the layer's content."""
        digest = hashlib.sha256(self._requirements.read_bytes())
        digest.update(f"{LAYER_PLATFORM} {LAYER_PYTHON_VERSION} cp".encode())
        return digest.hexdigest()[:32]

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        cached = (self._cache_dir or layer_cache_dir()) / self.cache_key()
        if not (cached / "python").is_dir():
            self._build_into(cached)
        shutil.copytree(cached / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True

    def _build_into(self, cached: Path) -> None:
        """pip into a fresh folder beside the cache entry, then rename: a failed build leaves nothing."""
        cached.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{cached.name}-", dir=cached.parent))
        try:
            self._pip_install(staging / "python")
            shutil.rmtree(cached, ignore_errors=True)
            staging.rename(cached)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _pip_install(self, target: Path) -> None:
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            str(self._requirements),
            "--platform",
            LAYER_PLATFORM,
            "--only-binary=:all:",
            "--python-version",
            LAYER_PYTHON_VERSION,
            "--implementation",
            "cp",
            "--target",
            str(target),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"pip could not build the dependencies layer from {self._requirements}:\n{result.stderr}"
            )
        # Console scripts are useless in a layer.
        shutil.rmtree(target / "bin", ignore_errors=True)


def dependencies_layer(scope: Construct, construct_id: str = "DependenciesLayer") -> lambda_.LayerVersion:
    """Layer with runtime/requirements.txt (PyJWT[crypto]) built by local pip bundling.

    Only requirements.txt is part of the asset source, so editing handler code does not rebuild it.
    """
    root = runtime_root()
    return lambda_.LayerVersion(
        scope,
        construct_id,
        description="Shopping cart runtime dependencies (runtime/requirements.txt)",
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        code=lambda_.Code.from_asset(
            str(root),
            exclude=["*", "!/requirements.txt"],
            ignore_mode=IgnoreMode.GIT,
            bundling=BundlingOptions(
                # Required by the API; never used because local bundling always succeeds or raises.
                image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.13"),
                local=PipLocalBundling(root / "requirements.txt"),
            ),
        ),
    )


#: Why a function needs no dead-letter queue (cdk-nag Serverless-LambdaDLQ), unless its caller says.
SYNCHRONOUS_DEAD_LETTER_REASON = (
    "Invoked synchronously by API Gateway: an error goes back to the caller as an answer; a "
    "function dead-letter queue only ever receives failed asynchronous invocations."
)
XRAY_WILDCARD_REASON = (
    "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support "
    "resource-level permissions, so they need Resource '*'."
)


#: Function properties an embedder cannot override: the runtime and its layers are built for them.
FIXED_FUNCTION_PROPS = ("handler", "code", "runtime", "architecture")


def service_function(
    scope: Construct,
    construct_id: str,
    *,
    handler: str,
    code: lambda_.Code,
    description: str,
    timeout: Duration,
    environment: Mapping[str, str],
    layers: Sequence[lambda_.ILayerVersion],
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
    memory_size: int = 256,
    reserved_concurrency: int | None = None,
    parts_prefix: str | None = None,
    props: Sequence[Mapping[str, Any] | None] = (),
    dead_letter_reason: str = SYNCHRONOUS_DEAD_LETTER_REASON,
    wildcard_reason: str = XRAY_WILDCARD_REASON,
) -> lambda_.Function:
    """A function with this library's defaults, its own role and its own log group.

    Creates ``{parts_prefix}Role``, ``{parts_prefix}LogGroup`` and the function ``{construct_id}`` in
    ``scope`` (``parts_prefix`` defaults to ``construct_id``; a ``Default`` function, whose logical id
    is its scope's, names them ``Role`` and ``LogGroup``). The role starts empty (no
    AWSLambdaBasicExecutionRole): it may write to its own log group, and X-Ray adds its own statement;
    everything else is granted by the caller. ``reserved_concurrency``: ``None`` or 0 reserves nothing.

    ``props``: dicts of ``aws_lambda.Function`` keyword properties merged over these defaults, in order
    (``memory_size``, ``vpc``, ``reserved_concurrent_executions``...). :data:`FIXED_FUNCTION_PROPS` cannot
    be changed; ``environment`` adds variables (not replacing ours); ``layers`` come after ours; a
    ``role`` or ``log_group`` given there is used instead of the one created here.
    """
    if reserved_concurrency is not None and reserved_concurrency < 0:
        raise ValueError(f"{construct_id}: reserved_concurrency must be 0 (none) or more")
    defaults = {
        "description": description,
        "runtime": RUNTIME,
        "architecture": ARCHITECTURE,
        "handler": handler,
        "code": code,
        "timeout": timeout,
        "memory_size": memory_size,
        "environment": dict(environment),
        "layers": list(layers),
        "tracing": lambda_.Tracing.ACTIVE,
        "reserved_concurrent_executions": reserved_concurrency or None,
    }
    merged = override_props(
        defaults,
        *props,
        owner=construct_id,
        fixed=FIXED_FUNCTION_PROPS,
        merged=["environment"],
        appended=["layers"],
    )
    prefix = ("" if construct_id == "Default" else construct_id) if parts_prefix is None else parts_prefix
    _add_role_and_log_group(scope, prefix, merged, log_retention=log_retention, removal_policy=removal_policy)
    function = lambda_.Function(scope, construct_id, **merged)
    _extract_own_layers_last(function, merged["layers"])
    _acknowledge(
        function, merged["role"], dead_letter_reason=dead_letter_reason, wildcard_reason=wildcard_reason
    )
    return function


def _add_role_and_log_group(
    scope: Construct,
    prefix: str,
    props: dict[str, Any],
    *,
    log_retention: logs.RetentionDays,
    removal_policy: RemovalPolicy,
) -> None:
    """``props["role"]`` and ``props["log_group"]``, unless given: an empty role, a log group it may
    write to."""
    if props.get("role") is None:
        props["role"] = iam.Role(
            scope,
            f"{prefix}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {props['description']}",
        )
    if props.get("log_group") is None:
        props["log_group"] = logs.LogGroup(
            scope, f"{prefix}LogGroup", retention=log_retention, removal_policy=removal_policy
        )
    props["log_group"].grant_write(props["role"])


def _acknowledge(
    function: lambda_.Function, role: iam.IRole, *, dead_letter_reason: str, wildcard_reason: str
) -> None:
    """What cdk-nag reports on every function of this library, and why it holds."""
    runtime_reason = (
        "Python 3.13 is this project's chosen runtime: the pinned public Powertools layer and the "
        "pip-built dependencies layer are both built for python3.13 on arm64."
    )
    Validations.of(function).acknowledge(
        Acknowledgment(id="AwsSolutions-L1", reason=runtime_reason),
        Acknowledgment(id="Serverless-LambdaLatestVersion", reason=runtime_reason),
        Acknowledgment(id="Serverless-LambdaDLQ", reason=dead_letter_reason),
    )
    Validations.of(role).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason=wildcard_reason,
        )
    )


@dataclass(frozen=True)
class FunctionOptions:
    """What every function of the cart shares: observability, lifecycle and the Powertools layer.

    ``service_name`` and ``metrics_namespace`` name the Powertools logs and metrics; ``log_level`` is
    Powertools' level. ``log_retention`` and ``removal_policy`` apply to each function's log group.
    ``powertools_layer``: the layer to use (default: the public one, ``powertools_layer_arn`` or
    resolved from Powertools' SSM parameter, created once per scope as ``PowertoolsLayer``).
    ``function_props``: ``aws_lambda.Function`` keyword properties for every function, over the
    defaults (see :func:`service_function`).
    """

    service_name: str = config.ENV["POWERTOOLS_SERVICE_NAME"].default
    metrics_namespace: str = config.ENV["POWERTOOLS_METRICS_NAMESPACE"].default
    log_level: str = config.ENV["POWERTOOLS_LOG_LEVEL"].default
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN
    powertools_layer: lambda_.ILayerVersion | None = None
    powertools_layer_arn: str | None = None
    function_props: Mapping[str, Any] | None = None

    @property
    def values(self) -> dict[str, str]:
        """The Powertools settings of every function (``shared.config``'s ``POWERTOOLS_*``)."""
        return {
            "powertools_service_name": self.service_name,
            "powertools_metrics_namespace": self.metrics_namespace,
            "powertools_log_level": self.log_level,
        }

    def layer(self, scope: Construct) -> lambda_.ILayerVersion:
        """``powertools_layer``, else the scope's ``PowertoolsLayer`` (created on first use)."""
        if self.powertools_layer is not None:
            return self.powertools_layer
        existing = scope.node.try_find_child("PowertoolsLayer")
        if existing is not None:
            return existing  # type: ignore[return-value]
        return powertools_layer(scope, arn=self.powertools_layer_arn)


def cart_function(
    scope: Construct,
    construct_id: str,
    *,
    handler: str,
    description: str,
    timeout: Duration,
    settings: Mapping[str, Any],
    options: FunctionOptions,
    extra_layers: Sequence[lambda_.ILayerVersion] = (),
    function_props: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> lambda_.Function:
    """A :func:`service_function` with the cart's code (:func:`cart_code`) and ``options``. Its
    environment is written by ``shared.config`` from ``settings`` (by attribute name) and the options,
    for the function of ``handler``; ``function_props`` (this function's) go over
    ``options.function_props`` (every function's)."""
    return service_function(
        scope,
        construct_id,
        handler=handler,
        code=cart_code(),
        description=description,
        timeout=timeout,
        environment=config.environment(_SCHEMA_FUNCTION[handler], {**settings, **options.values}),
        layers=[options.layer(scope), *extra_layers],
        log_retention=options.log_retention,
        removal_policy=options.removal_policy,
        props=(options.function_props, function_props),
        **kwargs,
    )


def _extract_own_layers_last(function: lambda_.Function, layers: Sequence[lambda_.ILayerVersion]) -> None:
    """Write ``Layers`` in extraction order: imported (public) layers first, this app's layers last,
    so that nothing a public layer ships can overwrite the pinned dependencies."""
    if not layers:
        return
    own = [layer for layer in layers if isinstance(layer, lambda_.LayerVersion)]
    imported = [layer for layer in layers if not isinstance(layer, lambda_.LayerVersion)]
    cfn = function.node.default_child
    assert isinstance(cfn, lambda_.CfnFunction)
    cfn.add_property_override("Layers", [layer.layer_version_arn for layer in [*imported, *own]])


def nag_flatten(value: Any) -> str:
    """A resolved CloudFormation value as cdk-nag names it in a finding (``<AWS::Region>``, import names)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(key, argument)] = value.items()
        if key == "Ref":
            return f"<{argument}>"
        if key == "Fn::GetAtt":
            return f"<{'.'.join(argument)}>"
        if key == "Fn::ImportValue":
            return nag_flatten(argument)
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(nag_flatten(part) for part in parts)
    raise ValueError(f"cannot name {value!r} as cdk-nag does")


@jsii.implements(IValidation)
class _AcknowledgeResolvedResource:
    """Acknowledges AwsSolutions-IAM5 for one resource ARN whose finding id is known only once
    cross-stack references are resolved (after CDK's prepare phase, when validations run)."""

    def __init__(self, target: Construct, arn: str, reason: str) -> None:
        self._target = target
        self._arn = arn
        self._reason = reason

    def validate(self) -> list[str]:
        finding = nag_flatten(Stack.of(self._target).resolve(self._arn))
        Validations.of(self._target).acknowledge(
            Acknowledgment(id=f"AwsSolutions-IAM5[Resource::{finding}]", reason=self._reason)
        )
        return []


def acknowledge_wildcard_resource(target: Construct, arn: str, reason: str) -> None:
    """Acknowledge the IAM5 finding of ``arn`` (a token, possibly from another stack) on ``target``."""
    target.node.add_validation(_AcknowledgeResolvedResource(target, arn, reason))
