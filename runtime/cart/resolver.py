"""The cart API's resolver: validation, CORS, and one exception handler per error.

Every error leaves as JSON `{"message": ...}` with a 4xx, or a 503 when a dependency is down; a 500
only for a bug of ours, and then without details.
"""

# No `from __future__ import annotations`: Powertools inspects handler signatures at runtime.
import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, HTTPBearer
from botocore.exceptions import BotoCoreError, ClientError

from shared.cors import AllowedOriginsCORSConfig

from .errors import (
    AuthenticationError,
    ConcurrentUpdateError,
    DependencyUnavailableError,
    ForbiddenError,
    InvalidQuantityError,
    ProductNotFoundError,
    QuantityLimitError,
)
from .settings import get_settings

logger = Logger(child=True)

# AWS error codes that mean "slow down or try later", not "this request is wrong".
_RETRY_LATER_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
    # A single-item write on an item that a transaction (a migration, a checkout) is writing; the
    # repository retries it, and this is what is left when the conflict outlasts the retries.
    "TransactionConflictException",
}


def _parse_json_body(body: str) -> Any:
    """json.loads, except that absurdly nested input is a client error (400/422), not a crash (500)."""
    try:
        return json.loads(body)
    except RecursionError:
        raise json.JSONDecodeError("document nested too deeply", body, 0) from None


app = APIGatewayRestResolver(
    enable_validation=True,
    cors=AllowedOriginsCORSConfig(lambda: get_settings().allowed_origins),
    json_body_deserializer=_parse_json_body,
)
app.configure_openapi(
    title="Shopping cart API",
    version="1.0.0",
    description=(
        "Anonymous and signed-in carts, migration on sign-in, checkout, and per-product totals for "
        "administrators. Every error is JSON with a `message`."
    ),
    security_schemes={
        "cognitoIdToken": HTTPBearer(
            bearerFormat="JWT",
            description="A Cognito ID token in `Authorization`, with or without `Bearer `.",
        ),
        "cartCookie": APIKey(
            in_=APIKeyIn.cookie,
            name="cartId",
            description="The anonymous cart's id (uuid4), issued by the API; HttpOnly.",
        ),
    },
)
# Security requirements of the routes, for the OpenAPI document (the routes enforce them themselves).
SIGNED_IN_OR_ANONYMOUS: list[dict[str, list[str]]] = [{"cognitoIdToken": []}, {"cartCookie": []}]
SIGNED_IN: list[dict[str, list[str]]] = [{"cognitoIdToken": []}]


def error_response(status: HTTPStatus, message: str, **extra: Any) -> Response:
    headers: dict[str, str] = {"Cache-Control": "no-store"}
    if status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = "Bearer"
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"message": message, **extra},
        headers=headers,
    )


# -- one handler per domain error -----------------------------------------------------------------------


@app.exception_handler(InvalidQuantityError)
def _invalid_quantity(error: InvalidQuantityError) -> Response:
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, error.message)


@app.exception_handler(QuantityLimitError)
def _quantity_limit(error: QuantityLimitError) -> Response:
    return error_response(HTTPStatus.CONFLICT, error.message)


@app.exception_handler(ConcurrentUpdateError)
def _concurrent_update(error: ConcurrentUpdateError) -> Response:
    logger.warning("gave up after repeated conflicting writes")
    return error_response(HTTPStatus.CONFLICT, error.message)


@app.exception_handler(ProductNotFoundError)
def _product_not_found(error: ProductNotFoundError) -> Response:
    return error_response(HTTPStatus.NOT_FOUND, error.message)


@app.exception_handler(DependencyUnavailableError)
def _dependency_unavailable(error: DependencyUnavailableError) -> Response:
    return error_response(HTTPStatus.SERVICE_UNAVAILABLE, error.message)


@app.exception_handler(AuthenticationError)
def _unauthenticated(error: AuthenticationError) -> Response:
    return error_response(HTTPStatus.UNAUTHORIZED, error.message)


@app.exception_handler(ForbiddenError)
def _forbidden(error: ForbiddenError) -> Response:
    return error_response(HTTPStatus.FORBIDDEN, error.message)


# -- request errors (Powertools' defaults have no `message`) ---------------------------------------------


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response:
    # Locations and error types only: echoing the input back could reflect a token or a cookie.
    detail = [{"loc": list(item["loc"]), "type": item["type"]} for item in error.errors()]
    if any(item["type"] == "json_invalid" for item in detail):
        return error_response(HTTPStatus.BAD_REQUEST, "the request body is not valid JSON", detail=detail)
    fields = ", ".join(".".join(str(part) for part in item["loc"][1:]) or "body" for item in detail)
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, f"invalid request: check {fields}", detail=detail)


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(_error: RequestUnsupportedContentType) -> Response:
    return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request body as application/json")


@app.not_found
def _route_not_found(_error: NotFoundError) -> Response:
    return error_response(HTTPStatus.NOT_FOUND, "not found")


@app.exception_handler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    return error_response(HTTPStatus(error.status_code), error.msg)


# -- failures of our own or of AWS: still JSON, never a stack trace -------------------------------------


@app.exception_handler([ClientError, BotoCoreError])
def _aws_error(error: ClientError | BotoCoreError) -> Response:
    code = error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""
    if isinstance(error, BotoCoreError) or code in _RETRY_LATER_CODES:
        logger.warning("AWS dependency unavailable", extra={"error": code or type(error).__name__})
        return error_response(HTTPStatus.SERVICE_UNAVAILABLE, "the cart is busy, please try again")
    logger.exception("unexpected AWS error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


@app.exception_handler(ValueError)
def _unreadable_body(error: ValueError) -> Response:
    # Powertools parses multipart bodies itself and lets a ValueError escape from a malformed one
    # (no boundary, characters that are not bytes). This API only reads JSON: say so.
    content_type = (app.current_event.headers.get("content-type") or "").strip().lower()
    if content_type and not content_type.startswith("application/json"):
        return error_response(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send the request body as application/json")
    return _unexpected_error(error)


@app.exception_handler(Exception)
def _unexpected_error(_error: Exception) -> Response:
    logger.exception("unexpected error")
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")
