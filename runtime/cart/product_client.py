"""HTTP client of the product service: `GET {PRODUCT_SERVICE_URL}/product/{id}`.

The cart stores a copy of the product's details with each line, so it asks the product service only
when a line is written, and caches answers in the container for PRODUCT_CACHE_SECONDS: the common add
is then one DynamoDB write and no HTTP call.
"""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from .errors import DependencyUnavailableError, ProductNotFoundError
from .settings import get_settings

logger = Logger(child=True)

_UNAVAILABLE_MESSAGE = "the product service is unavailable, please try again"


class ProductClient:
    def __init__(
        self,
        base_url: str,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base_url = base_url
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
        url = f"{self._base_url}/product/{urllib.parse.quote(product_id, safe='')}"
        if not url.startswith(("http://", "https://")):
            # urlopen would also open file:// URLs; the setting is ours, but fail loudly if it is wrong.
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_seconds) as response:  # noqa: S310
                # Prices and other numbers are stored in DynamoDB, which takes Decimal, never float.
                body = json.loads(response.read(), parse_float=Decimal)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise ProductNotFoundError(f"product {product_id} not found") from None
            logger.warning("product service answered an error", extra={"status": error.code})
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE) from None
        except (OSError, ValueError, http.client.HTTPException) as error:
            # URLError, timeouts and refused connections are OSErrors, a cut-off response an
            # HTTPException, a garbled body a ValueError.
            logger.warning("product service unreachable", extra={"error": type(error).__name__})
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE) from None
        product = body.get("product") if isinstance(body, dict) else None
        # The original mock answered 200 with a null product for unknown ids; never store such a thing.
        if product is None:
            raise ProductNotFoundError(f"product {product_id} not found")
        if not isinstance(product, dict) or product.get("productId") != product_id:
            logger.warning("product service answered an unexpected body")
            raise DependencyUnavailableError(_UNAVAILABLE_MESSAGE)
        return product


@functools.cache
def get_product_client() -> ProductClient:
    """One client per container, so that its cache outlives an invocation."""
    settings = get_settings()
    return ProductClient(
        base_url=settings.product_service_url,
        timeout_seconds=settings.product_service_timeout_seconds,
        cache_seconds=settings.product_cache_seconds,
    )
