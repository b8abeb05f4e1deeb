"""CORS for the origins in ALLOWED_ORIGINS, which is read at request time, not at import time.

Powertools' CORSConfig takes its origins when the resolver is built (at import); this subclass asks
for them on each request instead. Credentials are allowed (the cart cookie), so origins are matched
exactly: a wildcard would let any site read a visitor's cart.
"""

from collections.abc import Callable

from aws_lambda_powertools.event_handler import CORSConfig


class AllowedOriginsCORSConfig(CORSConfig):
    def __init__(self, allowed_origins: Callable[[], frozenset[str]], max_age_seconds: int = 600) -> None:
        super().__init__(allow_credentials=True, max_age=max_age_seconds)
        self._origins = allowed_origins

    def allowed_origin(self, extracted_origin: str | None) -> str | None:
        if extracted_origin and extracted_origin in self._origins():
            return extracted_origin
        return None

    def to_dict(self, origin: str | None) -> dict[str, str]:
        if not origin or origin not in self._origins():
            return {}
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": ",".join(sorted(self.allow_headers)),
            "Access-Control-Allow-Credentials": "true",
            # The answer depends on the Origin: caches must not serve it to another origin.
            "Vary": "Origin",
        }
        if self.max_age is not None:
            headers["Access-Control-Max-Age"] = str(self.max_age)
        return headers
