"""One place for the Lambda defaults of every construct in this library.

Every function is Python 3.13 on arm64 with active X-Ray tracing, the public Powertools layer, its own
IAM role (no managed policies: permissions come from ``grant_*`` calls) and its own log group with a
retention. Handler code comes from ``runtime/``, located through ``importlib.resources`` so it works
both from the repository (editable install) and from an installed wheel (``shopping_cart.runtime``).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
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
    Validations,
)
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm

from constructs import Construct

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


def powertools_layer(scope: Construct, construct_id: str = "PowertoolsLayer") -> lambda_.ILayerVersion:
    """The public Powertools layer, its ARN resolved at deploy time from Powertools' SSM parameter."""
    arn = ssm.StringParameter.value_for_string_parameter(scope, POWERTOOLS_LAYER_PARAMETER)
    return lambda_.LayerVersion.from_layer_version_arn(scope, construct_id, arn)


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    """Builds the dependencies layer with the local pip, no Docker.

    ``pip install --platform manylinux2014_aarch64 --only-binary=:all:`` downloads the arm64 wheels for
    CPython 3.13 whatever the machine it runs on, so the layer matches the functions.
    """

    def __init__(self, requirements: Path) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        target = Path(output_dir) / "python"
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
        return True


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
    wildcard_reason: str = (
        "Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support "
        "resource-level permissions, so they need Resource '*'."
    ),
) -> lambda_.Function:
    """A function with this library's defaults, its own role and its own log group.

    Creates ``{construct_id}Role``, ``{construct_id}LogGroup`` and the function ``{construct_id}`` in
    ``scope``. The role starts empty (no AWSLambdaBasicExecutionRole): it may write to its own log group,
    and X-Ray adds its own statement; everything else is granted by the caller.
    """
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"Execution role of {description}",
    )
    log_group = logs.LogGroup(
        scope, f"{construct_id}LogGroup", retention=log_retention, removal_policy=removal_policy
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=RUNTIME,
        architecture=ARCHITECTURE,
        handler=handler,
        code=code,
        timeout=timeout,
        memory_size=memory_size,
        environment=dict(environment),
        layers=list(layers),
        tracing=lambda_.Tracing.ACTIVE,
        role=role,
        log_group=log_group,
    )
    Validations.of(function).acknowledge(
        Acknowledgment(
            id="AwsSolutions-L1",
            reason="Python 3.13 is this project's chosen runtime: the pinned public Powertools layer and "
            "the pip-built dependencies layer are both built for python3.13 on arm64.",
        )
    )
    Validations.of(role).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason=wildcard_reason,
        )
    )
    return function
