"""The cart's configuration: a typed view of the environment, each variable read on first use.

Every variable is defined once, in ``shared.config`` (type, default, meaning, bounds), which the
constructs also write the environment from; this class only names the ones the cart reads.

Nothing here runs at import time: Lambda imports the module before the first invocation, and tests and
the OpenAPI generator import it with no environment at all. Each function reads only what it uses
(the aggregator has TABLE_NAME and nothing else), so a missing variable fails where it is needed, with
its name in the message.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any, Generic, TypeVar, overload

from shared.config import ENV, SettingError

T = TypeVar("T")


class MissingSettingError(RuntimeError):
    """A required environment variable is absent or empty, or a value is malformed: a deployment error,
    not a client error."""


class _FromEnv(Generic[T]):
    """The environment variable named like the attribute (``max_quantity``: ``MAX_QUANTITY``), parsed
    and checked by its :class:`shared.config.Setting` on first read, then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._setting = ENV[name.upper()]
        self._name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _FromEnv[T]: ...
    @overload
    def __get__(self, instance: Settings, owner: type) -> T: ...
    def __get__(self, instance: Settings | None, owner: type) -> Any:
        if instance is None:
            return self
        cache = instance.__dict__
        if self._name not in cache:
            raw = instance.environ.get(self._setting.key, "").strip() or None
            try:
                cache[self._name] = self._setting.parse(raw)
            except SettingError as error:
                raise MissingSettingError(f"environment variable {error}") from None
        return cache[self._name]


class Settings:
    """The cart functions' settings (docs/DESIGN.md, "Lambda functions")."""

    table_name: _FromEnv[str] = _FromEnv()
    delete_queue_url: _FromEnv[str] = _FromEnv()
    #: No trailing slash.
    product_service_url: _FromEnv[str] = _FromEnv()
    #: ``iam``: sign product requests with SigV4 (an AWS_IAM method); ``none``: plain requests.
    product_service_auth: _FromEnv[str] = _FromEnv()
    #: Set by Lambda in every function's environment.
    aws_region: _FromEnv[str] = _FromEnv()
    user_pool_client_id: _FromEnv[str] = _FromEnv()
    token_issuer: _FromEnv[str] = _FromEnv()
    jwks_url: _FromEnv[str] = _FromEnv()
    admin_group: _FromEnv[str] = _FromEnv()
    anonymous_cart_ttl_seconds: _FromEnv[int] = _FromEnv()
    user_cart_ttl_seconds: _FromEnv[int] = _FromEnv()
    max_quantity: _FromEnv[int] = _FromEnv()
    #: 0 turns the cache off (handy when editing the catalogue locally).
    product_cache_seconds: _FromEnv[float] = _FromEnv()
    product_service_timeout_seconds: _FromEnv[float] = _FromEnv()

    def __init__(self, environ: Mapping[str, str]) -> None:
        # A snapshot, so that one invocation never sees two different configurations.
        self.environ = dict(environ)

    @functools.cached_property
    def allowed_origins(self) -> frozenset[str]:
        """Origins never end with a slash; one in the configuration is dropped rather than never matching."""
        raw = self.environ.get("ALLOWED_ORIGINS", "").strip() or None
        try:
            return frozenset(ENV["ALLOWED_ORIGINS"].parse(raw))
        except SettingError as error:
            raise MissingSettingError(f"environment variable {error}") from None


@functools.cache
def get_settings() -> Settings:
    """The container's settings; cached because the environment of a Lambda container never changes."""
    return Settings(os.environ)
