"""The shop's settings, each defined once: its key, type, default, meaning and bounds.

Three parties read this module, and they share no other code:

- the CDK app (``app.py``) parses cdk.json's context with :data:`APP` (and the README's configuration
  table is checked against it, tests/infra/test_config.py);
- the constructs (``shopping_cart``) take their defaults and bounds from it and write each function's
  environment with :func:`environment` (from :data:`ENV` and :data:`FUNCTIONS`);
- the Lambda runtime parses and validates that environment with it (``cart.settings``).

Why here: the runtime ships only as a Lambda asset (``runtime/``) and cannot import the construct
library, while the library ships the runtime inside it (``shopping_cart.runtime``). So the one copy lives
under ``runtime/shared/`` and the constructs import it as ``shopping_cart.runtime.shared.config``; the
runtime imports it as ``shared.config`` (the asset root is on Lambda's ``sys.path``). Standard library
only, and nothing runs at import time but these declarations.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class SettingError(ValueError):
    """A value that is not of its setting's type or outside its bounds; the message names the key."""


@dataclass(frozen=True)
class Setting:
    """One setting: ``key`` (a cdk.json context key or an environment variable), ``kind`` (``int``,
    ``float``, ``bool``, ``str``, ``"origins"``, ``"url"``, ``"email"``), ``default`` (None: required),
    ``meaning``, and bounds: ``minimum``/``maximum`` (inclusive; ``above`` for an exclusive minimum) or
    ``choices``."""

    key: str
    kind: Any
    default: Any
    meaning: str
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    choices: tuple[Any, ...] = ()

    @property
    def attribute(self) -> str:
        """The Python name: ``maxQuantity`` and ``MAX_QUANTITY`` are both ``max_quantity``."""
        if self.key.isupper():
            return self.key.lower()
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.key).lower()

    def parse(self, raw: Any) -> Any:
        """``raw`` (a context value, or an environment string) as this setting's type, checked."""
        if raw is None:
            if self.default is None:
                raise SettingError(f"{self.key} is not set")
            return self.default
        value = _COERCE[self.kind](self, raw)
        self.check(value)
        return value

    def check(self, value: Any) -> None:
        """Refuse a value outside the bounds (numbers) or the choices."""
        if self.choices and value not in self.choices:
            raise SettingError(
                f"{self.key}: expected one of {', '.join(map(str, self.choices))}, got {value!r}"
            )
        if isinstance(value, int | float) and not isinstance(value, bool):
            low = self.minimum is not None and value < self.minimum
            high = self.maximum is not None and value > self.maximum
            if low or high or (self.above is not None and value <= self.above):
                raise SettingError(f"{self.key}: expected {self.bounds}, got {value!r}")

    @property
    def bounds(self) -> str:
        if self.above is not None:
            return f"more than {_number(self.above)}"
        if self.maximum is None:
            return f"at least {_number(self.minimum)}"
        return f"{_number(self.minimum)}..{_number(self.maximum)}"

    def render(self, value: Any) -> str:
        """``value`` as an environment variable holds it."""
        if self.kind == "origins":
            return ",".join(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


def _number(value: float | None) -> str:
    return str(int(value)) if value is not None and float(value).is_integer() else str(value)


def _int(setting: Setting, raw: Any) -> int:
    number = _float(setting, raw)
    if not number.is_integer():
        raise SettingError(f"{setting.key}: expected a whole number, got {raw!r}")
    return int(number)


def _float(setting: Setting, raw: Any) -> float:
    try:
        if isinstance(raw, bool):
            raise ValueError
        number = float(str(raw).strip())
    except ValueError:
        raise SettingError(f"{setting.key}: expected a number, got {raw!r}") from None
    if not math.isfinite(number):
        raise SettingError(f"{setting.key}: expected a finite number, got {raw!r}")
    return number


def _bool(setting: Setting, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise SettingError(f"{setting.key}: expected true or false, got {raw!r}")


def _str(setting: Setting, raw: Any) -> str:
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise SettingError(f"{setting.key}: expected a string, got {raw!r}")
    text = str(raw).strip()
    return text.lower() if setting.choices else text


def _email(setting: Setting, raw: Any) -> str:
    text = _str(setting, raw)
    if text and "@" not in text:
        raise SettingError(f"{setting.key}: expected an email address, got {text!r}")
    return text


def _url(setting: Setting, raw: Any) -> str:
    return _str(setting, raw).rstrip("/")


def parse_origins(raw: Any, key: str = "allowed origins") -> tuple[str, ...]:
    """Browser origins from a list, a JSON list or a comma-separated string; a trailing slash is
    dropped (an Origin header never has one), empty entries are ignored."""
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.lstrip().startswith("[") else raw.split(",")
    if not isinstance(raw, list | tuple) or not all(isinstance(origin, str) for origin in raw):
        raise SettingError(f"{key}: expected a list of origins, got {raw!r}")
    return tuple(origin.strip().rstrip("/") for origin in raw if origin.strip())


def _origins(setting: Setting, raw: Any) -> tuple[str, ...]:
    return parse_origins(raw, setting.key)


_COERCE = {
    int: _int,
    float: _float,
    bool: _bool,
    str: _str,
    "email": _email,
    "url": _url,
    "origins": _origins,
}

#: CloudWatch Logs' retention choices (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731)
_DAY = 86_400

#: The CDK app's settings: cdk.json context keys (README, "Configuration"), in the README's order.
APP: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "stackPrefix",
            str,
            "ShoppingCart",
            "stacks are `{prefix}-Auth`, `{prefix}-Operations`, `{prefix}-ProductMock`, `{prefix}-Cart`, "
            "`{prefix}-Frontend`",
        ),
        Setting(
            "allowedOrigins",
            "origins",
            (),
            "CORS origins (with credentials), for local development only (on AWS everything is one origin; "
            "the local stack adds its own); a list, or comma-separated on the command line",
        ),
        Setting(
            "anonymousCartTtlDays", int, 1, "TTL of anonymous lines (and the cookie's Max-Age)", minimum=1
        ),
        Setting("userCartTtlDays", int, 7, "TTL of signed-in lines", minimum=1),
        Setting("totalsBatchSize", int, 100, "aggregator: records per batch", minimum=1, maximum=10_000),
        Setting(
            "totalsBatchingWindowSeconds",
            int,
            60,
            "aggregator: maximum batching window",
            minimum=0,
            maximum=300,
        ),
        Setting("adminGroup", str, "admin", "Cognito group allowed to read totals"),
        Setting("maxQuantity", int, 1000, "bound on quantities", minimum=1),
        Setting(
            "removalPolicy",
            str,
            "retain",
            "`retain` (table and user pool kept, with deletion protection) or `destroy` (everything deleted "
            "with the stacks, buckets emptied)",
            choices=("retain", "destroy"),
        ),
        Setting("logRetentionDays", int, 30, "retention of every log group", choices=LOG_RETENTION_DAYS),
        Setting("enablePasswordAuth", bool, False, "also allow `USER_PASSWORD_AUTH` on the web client"),
        Setting(
            "frontendPath",
            str,
            "frontend/dist",
            "the built storefront the Frontend stack uploads; not built: the stack is left out (with a "
            'warning); `""`: left out',
        ),
        Setting("alarmEmail", "email", "", "subscribe this address to the alarm topic"),
        Setting("enableWaf", bool, True, "the REGIONAL web ACL on both API stages"),
        Setting(
            "wafRateLimit",
            int,
            2000,
            "requests per client IP per 5 minutes before WAF blocks (signed service calls: ten times that)",
            minimum=10,
            maximum=2_000_000_000,
        ),
        Setting(
            "powertoolsLayerArn",
            str,
            "",
            "the Powertools layer's ARN, for regions without its public SSM parameter",
        ),
        Setting(
            "sesFromAddress",
            "email",
            "",
            "send Cognito's emails through SES from this verified address; empty: Cognito's default sender "
            "(about 50 a day)",
        ),
        Setting("sesFromName", str, "", "the sender's display name"),
        Setting("sesRegion", str, "", "region of the verified SES identity (required with `sesFromAddress`)"),
        Setting("sesConfigurationSet", str, "", "an SES configuration set"),
        Setting(
            "cartApiReservedConcurrency",
            int,
            100,
            "reserved concurrency of the cart API function (0: none)",
            minimum=0,
        ),
        Setting("productApiReservedConcurrency", int, 50, "of the product mock function", minimum=0),
        Setting(
            "totalsAggregatorReservedConcurrency",
            int,
            10,
            "of the totals aggregator (at least the 4 stream shards it may read at once)",
            minimum=0,
        ),
        Setting(
            "deleteWorkerReservedConcurrency",
            int,
            10,
            "of the delete worker (at least its SQS maximum concurrency, 5)",
            minimum=0,
        ),
        Setting(
            "accountConcurrencyLimit",
            int,
            1000,
            "the account's Lambda concurrency quota assumed; synth fails unless 100 stay unreserved",
            minimum=0,
        ),
    )
}

#: The functions' environment variables (docs/DESIGN.md, "Lambda functions"). Defaults of the
#: variables that carry an app setting are that setting's (in the variable's unit).
ENV: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting("TABLE_NAME", str, None, "the cart table"),
        Setting("DELETE_QUEUE_URL", str, None, "queue of migrated items to delete"),
        Setting(
            "PRODUCT_SERVICE_URL", "url", None, "product API base URL; the cart calls `{url}/product/{id}`"
        ),
        Setting("USER_POOL_CLIENT_ID", str, None, "expected `aud` of ID tokens"),
        Setting("TOKEN_ISSUER", str, None, "expected `iss` of ID tokens"),
        Setting("JWKS_URL", str, None, "where the token signing keys are"),
        Setting("ADMIN_GROUP", str, APP["adminGroup"].default, APP["adminGroup"].meaning),
        Setting(
            "ANONYMOUS_CART_TTL_SECONDS",
            int,
            APP["anonymousCartTtlDays"].default * _DAY,
            "TTL of anonymous lines, and the cookie's Max-Age (seconds)",
            minimum=1,
        ),
        Setting(
            "USER_CART_TTL_SECONDS",
            int,
            APP["userCartTtlDays"].default * _DAY,
            "TTL of signed-in lines (seconds)",
            minimum=1,
        ),
        Setting("MAX_QUANTITY", int, APP["maxQuantity"].default, APP["maxQuantity"].meaning, minimum=1),
        Setting(
            "ALLOWED_ORIGINS", "origins", APP["allowedOrigins"].default, "CORS origins (credentials allowed)"
        ),
        Setting(
            "PRODUCT_CACHE_SECONDS",
            float,
            300,
            "how long product details are cached in a container (0: off)",
            minimum=0,
        ),
        Setting(
            "PRODUCT_SERVICE_TIMEOUT_SECONDS", float, 3, "HTTP timeout towards the product service", above=0
        ),
        Setting(
            "PRODUCT_SERVICE_AUTH",
            str,
            "none",
            "`iam`: sign product requests with SigV4; `none`: plain requests",
            choices=("iam", "none"),
        ),
        Setting("AWS_REGION", str, None, "the function's region (set by Lambda)"),
        Setting("POWERTOOLS_SERVICE_NAME", str, "shopping-cart", "Powertools' service name (logs, metrics)"),
        Setting("POWERTOOLS_METRICS_NAMESPACE", str, "ShoppingCart", "Powertools' metrics namespace"),
        Setting(
            "POWERTOOLS_LOG_LEVEL",
            str,
            "INFO",
            "Powertools' log level",
            choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        ),
    )
}

_POWERTOOLS = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL")
#: The variables each function is given (AWS_REGION comes from Lambda itself).
FUNCTIONS: dict[str, tuple[str, ...]] = {
    "api": (
        "TABLE_NAME",
        "DELETE_QUEUE_URL",
        "PRODUCT_SERVICE_URL",
        "USER_POOL_CLIENT_ID",
        "TOKEN_ISSUER",
        "JWKS_URL",
        "ADMIN_GROUP",
        "ANONYMOUS_CART_TTL_SECONDS",
        "USER_CART_TTL_SECONDS",
        "MAX_QUANTITY",
        "ALLOWED_ORIGINS",
        "PRODUCT_CACHE_SECONDS",
        "PRODUCT_SERVICE_TIMEOUT_SECONDS",
        "PRODUCT_SERVICE_AUTH",
        *_POWERTOOLS,
    ),
    "aggregator": ("TABLE_NAME", *_POWERTOOLS),
    "delete_worker": ("TABLE_NAME", *_POWERTOOLS),
    "products": ("ALLOWED_ORIGINS", *_POWERTOOLS),
}


def environment(function: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The environment of ``function``: ``values`` by attribute name (``table_name``...), each checked
    and rendered; a variable of the function that ``values`` lacks takes its default, and a required one
    (or a value of no variable of the function) fails."""
    keys = FUNCTIONS[function]
    unknown = sorted(set(values) - {ENV[key].attribute for key in keys})
    if unknown:
        raise SettingError(f"{function}: no variable for {', '.join(unknown)}")
    settings = [ENV[key] for key in keys]
    for setting in settings:
        value = values.get(setting.attribute)
        if value is not None and not _is_token(value):
            setting.check(value)
    missing = [s.key for s in settings if values.get(s.attribute, s.default) is None]
    if missing:
        raise SettingError(f"{function}: {', '.join(missing)} required")
    return {s.key: s.render(values.get(s.attribute, s.default)) for s in settings}


def _is_token(value: Any) -> bool:
    """A CDK token (a deploy-time value) renders as a string holding ``${Token[``; it is not checked."""
    return isinstance(value, str) and "${Token[" in value


def problems(values: Sequence[tuple[Setting, Any, str]]) -> list[str]:
    """What is wrong with each ``(setting, value, name)``, each message naming ``name`` (a construct's
    property, say) instead of the setting's key."""
    found = []
    for setting, value, name in values:
        try:
            setting.check(value)
        except SettingError as error:
            found.append(str(error).replace(setting.key, name, 1))
    return found
