"""Who is calling: a verified Cognito ID token, or else the anonymous `cartId` cookie.

A present Authorization header is always verified here, even behind API Gateway's Cognito authorizer:
the runtime must not depend on how a route was wired, and an invalid token must be a 401, never a
silent fallback to another cart (a defect of the original sample).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jwt
from aws_lambda_powertools import Logger

from .errors import AuthenticationError, DependencyUnavailableError
from .settings import Settings

logger = Logger(child=True)

CART_COOKIE_NAME = "cartId"
# Only the canonical lowercase form that new_cart_id() issues: one cart, one spelling of its key.
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# Cognito signs with RS256 only; accepting anything else would invite algorithm confusion.
_ALGORITHMS = ["RS256"]
_JWKS_TIMEOUT_SECONDS = 3
# Cognito rotates keys rarely; an unknown kid makes PyJWKClient refetch (at most once per cooldown).
_JWKS_CACHE_SECONDS = 3600
_INVALID_TOKEN_MESSAGE = "invalid or expired token"


@dataclass(frozen=True)
class SignedInUser:
    sub: str
    groups: frozenset[str]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a verified user or nobody, and the anonymous cart id their browser holds."""

    user: SignedInUser | None
    # A well-formed cartId from the Cookie header, or None (absent or malformed: a new one is issued).
    cookie_cart_id: str | None
    # Whether a cookie set in the response must be Secure (unless the client used plain http).
    secure_cookie: bool


@functools.cache
def _jwks_client(jwks_url: str) -> jwt.PyJWKClient:
    # Cached per container: keys are fetched once, not at every invocation.
    return jwt.PyJWKClient(
        jwks_url, cache_keys=True, lifespan=_JWKS_CACHE_SECONDS, timeout=_JWKS_TIMEOUT_SECONDS
    )


def token_from_authorization(header: str | None) -> str | None:
    """The token of an `Authorization: [Bearer ]<token>` header; None when there is no header.

    A blank header counts as absent (some clients send an empty one when signed out); anything else
    is a token and gets verified.
    """
    if header is None or not header.strip():
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip()
    return value


def verify_id_token(token: str, settings: Settings) -> SignedInUser:
    """Verify a Cognito ID token: signature (JWKS), issuer, audience, token_use, expiry.

    Raises AuthenticationError (401) for any invalid token and DependencyUnavailableError (503) when
    the keys cannot be fetched.
    """
    try:
        signing_key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=_ALGORITHMS,
            audience=settings.user_pool_client_id,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iss", "aud", "sub", "token_use"]},
        )
    except jwt.PyJWKClientConnectionError:
        logger.warning("could not fetch the token signing keys")
        raise DependencyUnavailableError("the identity provider is unavailable, please try again") from None
    except jwt.PyJWTError as error:
        # The reason is safe to log; the token is not.
        logger.info("token rejected", extra={"reason": type(error).__name__})
        raise AuthenticationError(_INVALID_TOKEN_MESSAGE) from None
    # Access tokens are signed by the same keys but carry no `aud`, and are not meant for this API.
    if claims.get("token_use") != "id":
        logger.info("token rejected", extra={"reason": "token_use"})
        raise AuthenticationError(_INVALID_TOKEN_MESSAGE)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise AuthenticationError(_INVALID_TOKEN_MESSAGE)
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        groups = []
    return SignedInUser(sub=sub, groups=frozenset(group for group in groups if isinstance(group, str)))


def cart_id_from_cookies(cookie_headers: Iterable[str]) -> str | None:
    """The first well-formed `cartId` in the request's Cookie headers; malformed values are ignored."""
    for header in cookie_headers:
        for pair in header.split(";"):
            name, separator, value = pair.strip().partition("=")
            if separator and name.strip() == CART_COOKIE_NAME:
                candidate = value.strip().strip('"')
                if _UUID4.fullmatch(candidate):
                    return candidate
    return None


def new_cart_id() -> str:
    return str(uuid.uuid4())


def cookie_needs_secure(forwarded_protos: Iterable[str | None]) -> bool:
    """Secure unless the client used plain http, whatever the host: API Gateway always sends https;
    the local stack says http, and a phone opening it by address over http must keep its cart.

    Every X-Forwarded-Proto value counts (a client's own comes first, the proxies' after it): one
    https, or none at all, is Secure.
    """
    schemes = [s.strip().lower() for value in forwarded_protos for s in (value or "").split(",")]
    return not schemes or any(scheme != "http" for scheme in schemes)


def cart_cookie(cart_id: str, max_age_seconds: int, secure: bool) -> str:
    """The Set-Cookie value of the anonymous cart.

    SameSite=Lax (not None, as in the original): the storefront is same-origin, and cross-site
    cookies are blocked by Safari and private modes. HttpOnly: scripts never need the id.
    """
    cookie = f"{CART_COOKIE_NAME}={cart_id}; Max-Age={max_age_seconds}; Path=/; HttpOnly; SameSite=Lax"
    return cookie + "; Secure" if secure else cookie


def identify_caller(header_values: Callable[[str], list[str]], settings: Settings) -> Caller:
    """Identify a request from its headers (`header_values(name)`: every value of a header).

    A present Authorization header is verified, whatever the route: invalid means 401, never a
    fallback to the cookie's cart.
    """

    def first(name: str) -> str | None:
        values = header_values(name)
        return values[0] if values else None

    token = token_from_authorization(first("authorization"))
    return Caller(
        user=verify_id_token(token, settings) if token is not None else None,
        cookie_cart_id=cart_id_from_cookies(header_values("cookie")),
        secure_cookie=cookie_needs_secure(header_values("x-forwarded-proto")),
    )
