"""The cart's configuration, read from the environment once, on first use.

Nothing here runs at import time: Lambda imports the module before the first invocation, and tests and
the OpenAPI generator import it with no environment at all. Each function reads only what it uses
(the aggregator has TABLE_NAME and nothing else), so a missing variable fails where it is needed, with
its name in the message.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from functools import cached_property


class MissingSettingError(RuntimeError):
    """A required environment variable is absent or empty: a deployment error, not a client error."""


class Settings:
    def __init__(self, environ: Mapping[str, str]) -> None:
        # A snapshot, so that one invocation never sees two different configurations.
        self._environ = dict(environ)

    def _required(self, name: str) -> str:
        value = self._environ.get(name, "").strip()
        if not value:
            raise MissingSettingError(f"environment variable {name} is not set")
        return value

    def _positive_number(self, name: str, default: str, *, zero_allowed: bool = False) -> float:
        raw = self._environ.get(name, "").strip() or default
        try:
            value = float(raw)
        except ValueError:
            raise MissingSettingError(f"environment variable {name} must be a number, got {raw!r}") from None
        if not (value >= 0 if zero_allowed else value > 0) or value == float("inf"):
            raise MissingSettingError(f"environment variable {name} is out of range: {raw!r}")
        return value

    def _positive_int(self, name: str, default: str) -> int:
        value = self._positive_number(name, default)
        if value != int(value):
            raise MissingSettingError(f"environment variable {name} must be a whole number")
        return int(value)

    @cached_property
    def table_name(self) -> str:
        return self._required("TABLE_NAME")

    @cached_property
    def delete_queue_url(self) -> str:
        return self._required("DELETE_QUEUE_URL")

    @cached_property
    def product_service_url(self) -> str:
        return self._required("PRODUCT_SERVICE_URL").rstrip("/")

    @cached_property
    def product_service_auth(self) -> str:
        """``iam``: sign product requests with SigV4 (an AWS_IAM method); ``none``: plain requests."""
        value = self._environ.get("PRODUCT_SERVICE_AUTH", "").strip().lower() or "none"
        if value not in ("iam", "none"):
            raise MissingSettingError(
                f"environment variable PRODUCT_SERVICE_AUTH must be iam or none, got {value!r}"
            )
        return value

    @cached_property
    def aws_region(self) -> str:
        # Set by Lambda in every function's environment.
        return self._required("AWS_REGION")

    @cached_property
    def user_pool_client_id(self) -> str:
        return self._required("USER_POOL_CLIENT_ID")

    @cached_property
    def token_issuer(self) -> str:
        return self._required("TOKEN_ISSUER")

    @cached_property
    def jwks_url(self) -> str:
        return self._required("JWKS_URL")

    @cached_property
    def admin_group(self) -> str:
        return self._environ.get("ADMIN_GROUP", "").strip() or "admin"

    @cached_property
    def anonymous_cart_ttl_seconds(self) -> int:
        return self._positive_int("ANONYMOUS_CART_TTL_SECONDS", "86400")

    @cached_property
    def user_cart_ttl_seconds(self) -> int:
        return self._positive_int("USER_CART_TTL_SECONDS", "604800")

    @cached_property
    def max_quantity(self) -> int:
        return self._positive_int("MAX_QUANTITY", "1000")

    @cached_property
    def allowed_origins(self) -> frozenset[str]:
        # Origins never end with a slash; tolerate one in the configuration rather than never matching.
        raw = self._environ.get("ALLOWED_ORIGINS", "")
        return frozenset(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())

    @cached_property
    def product_cache_seconds(self) -> float:
        # 0 turns the cache off (handy when editing the catalogue locally).
        return self._positive_number("PRODUCT_CACHE_SECONDS", "300", zero_allowed=True)

    @cached_property
    def product_service_timeout_seconds(self) -> float:
        return self._positive_number("PRODUCT_SERVICE_TIMEOUT_SECONDS", "3")


@functools.cache
def get_settings() -> Settings:
    """The container's settings; cached because the environment of a Lambda container never changes."""
    return Settings(os.environ)
