"""HTTP client of the product service: `GET {PRODUCT_SERVICE_URL}/product/{id}`.

The cart stores a copy of the product's details with each line, so it asks the product service only
when a line is written, and caches answers in the container for PRODUCT_CACHE_SECONDS: the common add
is then one DynamoDB write and no HTTP call.

PRODUCT_SERVICE_TIMEOUT_SECONDS bounds the whole exchange, not each socket read: a service that
answers slowly, a byte at a time, would otherwise hold the request until the Lambda timeout (and the
shopper would get API Gateway's 502 or 504 instead of a clear 503).

Every request carries a User-Agent: the product API's web ACL runs AWS's Common Rule Set, whose
NoUserAgent_HEADER rule blocks requests without one (http.client sends none of its own). With
PRODUCT_SERVICE_AUTH=iam the request is signed with SigV4 for ``execute-api`` with the function's own
credentials (the Lambda environment's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, read
by botocore's credential chain), for an API Gateway method with AWS_IAM authorization (the product
mock's ``/internal/product/{id}``, which the web ACL's shopper rate rules leave out).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.session import Session

from .errors import DependencyUnavailableError, ProductNotFoundError
from .settings import get_settings

logger = Logger(child=True)

_UNAVAILABLE_MESSAGE = "the product service is unavailable, please try again"

#: Sent with every request (AWS WAF's Common Rule Set blocks requests that have none).
USER_AGENT = "serverless-shopping-cart/1.0 (product-client)"
#: The SigV4 service name of API Gateway's execute-api endpoints.
SIGNING_SERVICE = "execute-api"


class RequestSigner:
    """SigV4 for execute-api with the credentials of botocore's default chain, resolved on first use.

    Lambda puts the function role's temporary credentials in the environment; botocore's chain reads
    them (and would refresh credentials from other providers), so no key is ever configured here.
    """

    def __init__(self, region: str, credentials: Callable[[], Credentials | None] | None = None) -> None:
        self._region = region
        self._credentials = credentials or (lambda: Session().get_credentials())
        self._resolved: Credentials | None = None
        self._lock = threading.Lock()

    def headers(self, method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` plus Host, X-Amz-Date, X-Amz-Security-Token and Authorization for ``url``."""
        with self._lock:
            if self._resolved is None:
                self._resolved = self._credentials()
            credentials = self._resolved
        if credentials is None:
            raise ValueError("no AWS credentials to sign the product service request with")
        request = AWSRequest(method=method, url=url, headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), SIGNING_SERVICE, self._region).add_auth(request)
        return dict(request.headers.items())


class ProductClient:
    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        signer: RequestSigner | None = None,
    ) -> None:
        self._base_url = base_url
        self._signer = signer
        self._timeout_seconds = timeout_seconds
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get_product(self, product_id: str) -> dict[str, Any]:
        """The product's details; ProductNotFoundError (404) or DependencyUnavailableError (503)."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(product_id)
        if cached and cached[0] > now:
            return cached[1]
        product = self._fetch(product_id)
        if self._cache_seconds > 0:
            with self._lock:
                self._cache[product_id] = (now + self._cache_seconds, product)
        return product

    def _fetch(self, product_id: str) -> dict[str, Any]:
        url = urllib.parse.urlsplit(f"{self._base_url}/product/{urllib.parse.quote(product_id, safe='')}")
        if url.scheme not in ("http", "https") or not url.hostname:
            # Only HTTP(S): the setting is ours, but fail loudly if it is wrong.
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE)
        try:
            status, raw = self._get(url)
        except (OSError, http.client.HTTPException, ValueError) as error:
            # Refused connections, timeouts and the deadline's abort are OSErrors, a cut-off response an
            # HTTPException, a malformed URL or port (or no credentials to sign with) a ValueError.
            logger.warning("product service unreachable", extra={"error": type(error).__name__})
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE) from None
        if status == 404:
            raise ProductNotFoundError(f"product {product_id} not found")
        if status != 200:
            logger.warning("product service answered an error", extra={"status": status})
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE)
        try:
            # Prices and other numbers are stored in DynamoDB, which takes Decimal, never float.
            body = json.loads(raw, parse_float=Decimal)
        except ValueError:
            logger.warning("product service answered a body that is not JSON")
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE) from None
        product = body.get("product") if isinstance(body, dict) else None
        # The original mock answered 200 with a null product for unknown ids; never store such a thing.
        if product is None:
            raise ProductNotFoundError(f"product {product_id} not found")
        if not isinstance(product, dict) or product.get("productId") != product_id:
            logger.warning("product service answered an unexpected body")
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE)
        return product

    def _get(self, url: urllib.parse.SplitResult) -> tuple[int, bytes]:
        """GET the URL within the timeout: (status, body). Raises OSError when the time is up."""
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        # The socket timeout bounds the connect and each read; the timer bounds the whole exchange by
        # shutting the socket down, which ends a read that is blocked or keeps getting a byte at a time.
        connection = connection_class(url.hostname, url.port, timeout=self._timeout_seconds)
        started = time.monotonic()
        try:
            connection.connect()
            # Kept here: the connection forgets its socket once a response says it will close.
            sock = connection.sock
            remaining = self._timeout_seconds - (time.monotonic() - started)
            deadline = threading.Timer(max(remaining, 0), _shut_down, args=(sock,))
            deadline.daemon = True
            deadline.start()
            try:
                path = url.path + (f"?{url.query}" if url.query else "")
                connection.request("GET", path, headers=self._headers(url))
                response = connection.getresponse()
                raw = response.read()
                if not deadline.is_alive():
                    # Shut down while reading: what was read may be cut short without an error.
                    raise TimeoutError("the product service did not answer in time")
                return response.status, raw
            finally:
                deadline.cancel()
        finally:
            connection.close()

    def _headers(self, url: urllib.parse.SplitResult) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self._signer is None:
            return headers
        # Signed as sent: the signature covers Host (with a non-default port) and the path with the stage.
        return self._signer.headers("GET", url.geturl(), headers)


def _shut_down(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


@functools.cache
def get_product_client() -> ProductClient:
    """One client per container, so that its cache outlives an invocation."""
    settings = get_settings()
    return ProductClient(
        base_url=settings.product_service_url,
        timeout_seconds=settings.product_service_timeout_seconds,
        cache_seconds=settings.product_cache_seconds,
        signer=RequestSigner(settings.aws_region) if settings.product_service_auth == "iam" else None,
    )
