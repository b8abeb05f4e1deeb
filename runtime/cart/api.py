"""Cart API: routes and the Lambda entry point `handler`.

Deliberately thin: each route works out who is calling, calls one CartService method, and shapes the
answer. Errors are mapped to HTTP in resolver.py, the rules live in service.py, the data access in
repository.py. `app` is the resolver, exposed for the OpenAPI generator.
"""

# No `from __future__ import annotations` here: Powertools reads the route signatures at runtime to
# validate requests and to build the OpenAPI document.
import functools
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from .domain import CartLine, CartOwner
from .errors import AuthenticationError, ForbiddenError
from .identity import Caller, SignedInUser, cart_cookie, identify_caller, new_cart_id
from .models import (
    PRODUCT_ID_PATTERN,
    AddToCartRequest,
    CartLineResponse,
    CartLineUpdatedResponse,
    CartResponse,
    ErrorResponse,
    ProductTotalResponse,
    SetQuantityRequest,
    TotalsResponse,
)
from .product_client import get_product_client
from .repository import get_repository
from .resolver import SIGNED_IN, SIGNED_IN_OR_ANONYMOUS, app
from .service import CartPolicy, CartService
from .settings import get_settings

__all__ = ["app", "handler"]

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# -- who is calling -------------------------------------------------------------------------------------


def _caller() -> Caller:
    """Who sent the current request (verifies a present token: an invalid one raises a 401)."""
    event = app.current_event
    multi_value_headers = event.multi_value_headers

    def header_values(name: str) -> list[str]:
        values = multi_value_headers.get(name)
        if values:
            return [value for value in values if isinstance(value, str)]
        value = event.headers.get(name)
        return [value] if isinstance(value, str) else []

    return identify_caller(header_values, get_settings())


def _signed_in(caller: Caller) -> SignedInUser:
    if caller.user is None:
        raise AuthenticationError("sign in to do this")
    return caller.user


def _admin(caller: Caller) -> SignedInUser:
    user = _signed_in(caller)
    if get_settings().admin_group not in user.groups:
        raise ForbiddenError("only administrators can read totals")
    return user


@functools.cache
def _cart_service() -> CartService:
    # Built on first use (settings, clients) and reused by the container's later invocations.
    settings = get_settings()
    policy = CartPolicy(
        anonymous_ttl_seconds=settings.anonymous_cart_ttl_seconds,
        user_ttl_seconds=settings.user_cart_ttl_seconds,
        max_quantity=settings.max_quantity,
    )
    return CartService(get_repository(), get_product_client(), policy)


def _respond(body: BaseModel, caller: Caller, set_cart_id: str | None = None) -> Response:
    headers = {"Cache-Control": "no-store"}  # carts are personal: no shared cache may keep one
    if set_cart_id is not None:
        max_age = get_settings().anonymous_cart_ttl_seconds
        headers["Set-Cookie"] = cart_cookie(set_cart_id, max_age, caller.secure_cookie)
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
        headers=headers,
    )


def _cart_body(lines: list[CartLine]) -> CartResponse:
    return CartResponse(
        products=[
            CartLineResponse(
                sk=line.product_id,
                productId=line.product_id,
                quantity=line.quantity,
                productDetail=line.product_detail,
            )
            for line in lines
        ]
    )


_ERRORS = {
    HTTPStatus.BAD_REQUEST: "The body is not valid JSON",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not application/json",
    HTTPStatus.UNAUTHORIZED: "Invalid or expired token, or not signed in",
    HTTPStatus.NOT_FOUND: "Unknown product",
    HTTPStatus.CONFLICT: "The cart changed concurrently, or the line is full",
    HTTPStatus.FORBIDDEN: "Not an administrator",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Invalid request",
    HTTPStatus.SERVICE_UNAVAILABLE: "A dependency (product service, identity keys, table) is unavailable",
}


def _documented(*statuses: HTTPStatus) -> dict[int, Any]:
    """OpenAPI responses of a route: 200 from its return annotation, plus its error statuses."""
    responses: dict[int, Any] = {HTTPStatus.OK.value: {"description": "Success"}}
    # Every route documents 422 with our error body (Powertools' default schema has no `message`).
    for status in (*statuses, HTTPStatus.UNPROCESSABLE_ENTITY):
        responses[status.value] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"model": ErrorResponse}},
        }
    return responses


CartProductId = Annotated[str, Path(pattern=PRODUCT_ID_PATTERN, description="Product id")]

# -- routes ---------------------------------------------------------------------------------------------


@app.get(
    "/cart",
    summary="Read the caller's cart",
    description="The signed-in user's cart, or else the anonymous cart of the cartId cookie (issued if missing).",
    responses=_documented(HTTPStatus.UNAUTHORIZED, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["cart"],
    security=SIGNED_IN_OR_ANONYMOUS,
)
def get_cart() -> Response[CartResponse]:
    caller = _caller()
    if caller.user is not None:
        return _respond(_cart_body(_cart_service().get_cart(CartOwner.user(caller.user.sub))), caller)
    if caller.cookie_cart_id is None:
        # A new visitor: the cart is empty without asking the table.
        return _respond(CartResponse(products=[]), caller, set_cart_id=new_cart_id())
    lines = _cart_service().get_cart(CartOwner.anonymous(caller.cookie_cart_id))
    return _respond(_cart_body(lines), caller)


def _owner_for_write(caller: Caller) -> tuple[CartOwner, str | None]:
    """The cart a write goes to, and the cartId to (re)send: every anonymous write renews the cookie,
    so that it lives as long as the lines it keys."""
    if caller.user is not None:
        return CartOwner.user(caller.user.sub), None
    cart_id = caller.cookie_cart_id or new_cart_id()
    return CartOwner.anonymous(cart_id), cart_id


@app.post(
    "/cart",
    summary="Add a product to the cart (a negative quantity removes, never below zero)",
    responses=_documented(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.CONFLICT,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
    tags=["cart"],
    security=SIGNED_IN_OR_ANONYMOUS,
)
def add_to_cart(request: Annotated[AddToCartRequest, Body()]) -> Response[CartLineUpdatedResponse]:
    caller = _caller()
    owner, cart_id = _owner_for_write(caller)
    quantity = _cart_service().add(owner, request.productId, request.quantity)
    metrics.add_metric(name="CartUpdated", unit=MetricUnit.Count, value=1)
    message = "product added to cart" if request.quantity > 0 else "product removed from cart"
    body = CartLineUpdatedResponse(productId=request.productId, quantity=quantity, message=message)
    return _respond(body, caller, set_cart_id=cart_id)


@app.put(
    "/cart/<product_id>",
    summary="Set a product's quantity in the cart (0 removes it)",
    responses=_documented(
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.UNAUTHORIZED,
        HTTPStatus.NOT_FOUND,
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        HTTPStatus.SERVICE_UNAVAILABLE,
    ),
    tags=["cart"],
    security=SIGNED_IN_OR_ANONYMOUS,
)
def set_quantity(
    product_id: CartProductId, request: Annotated[SetQuantityRequest, Body()]
) -> Response[CartLineUpdatedResponse]:
    caller = _caller()
    owner, cart_id = _owner_for_write(caller)
    quantity = _cart_service().set_quantity(owner, product_id, request.quantity)
    metrics.add_metric(name="CartUpdated", unit=MetricUnit.Count, value=1)
    body = CartLineUpdatedResponse(productId=product_id, quantity=quantity, message="cart updated")
    return _respond(body, caller, set_cart_id=cart_id)


@app.post(
    "/cart/migrate",
    summary="Merge the anonymous cart into the signed-in user's cart",
    description=(
        "Moves the lines of the cartId cookie's cart into the user's cart, exactly once: repeated or "
        "concurrent calls never count a line twice. Returns the user's cart after the merge and sets a "
        "fresh cartId cookie."
    ),
    responses=_documented(HTTPStatus.UNAUTHORIZED, HTTPStatus.CONFLICT, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["cart"],
    security=SIGNED_IN,
)
def migrate_cart() -> Response[CartResponse]:
    caller = _caller()
    user = CartOwner.user(_signed_in(caller).sub)
    service = _cart_service()
    if caller.cookie_cart_id is None:
        lines, moved = service.get_cart(user), 0
    else:
        lines, moved = service.migrate(CartOwner.anonymous(caller.cookie_cart_id), user)
    if moved:
        metrics.add_metric(name="CartMigrated", unit=MetricUnit.Count, value=1)
    # The old cart id is spent: the next anonymous session (after sign-out) starts an empty cart.
    return _respond(_cart_body(lines), caller, set_cart_id=new_cart_id())


@app.post(
    "/cart/checkout",
    summary="Empty the signed-in user's cart and return what was bought",
    responses=_documented(HTTPStatus.UNAUTHORIZED, HTTPStatus.CONFLICT, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["cart"],
    security=SIGNED_IN,
)
def checkout() -> Response[CartResponse]:
    caller = _caller()
    user = CartOwner.user(_signed_in(caller).sub)
    bought = _cart_service().checkout(user)
    if bought:
        metrics.add_metric(name="CartCheckedOut", unit=MetricUnit.Count, value=1)
    return _respond(_cart_body(bought), caller)


@app.get(
    "/cart/totals",
    summary="Every product's total quantity over all carts (administrators)",
    responses=_documented(HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["totals"],
    security=SIGNED_IN,
)
def get_all_totals() -> Response[TotalsResponse]:
    caller = _caller()
    _admin(caller)
    totals = _cart_service().all_totals()
    body = TotalsResponse(
        totals=[ProductTotalResponse(product=total.product_id, quantity=total.quantity) for total in totals]
    )
    return _respond(body, caller)


@app.get(
    "/cart/<product_id>/total",
    summary="One product's total quantity over all carts (administrators); 0 when none",
    responses=_documented(HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.SERVICE_UNAVAILABLE),
    tags=["totals"],
    security=SIGNED_IN,
)
def get_product_total(product_id: CartProductId) -> Response[ProductTotalResponse]:
    caller = _caller()
    _admin(caller)
    total = _cart_service().product_total(product_id)
    return _respond(ProductTotalResponse(product=product_id, quantity=total), caller)


# Tracer's capture_response is off: the response carries the Set-Cookie header.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
