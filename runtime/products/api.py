"""Product mock API: `GET /product` and `GET /product/<product_id>`. Entry point: `handler`.

`GET /internal/product/<product_id>` answers the same for services: API Gateway authorizes it with
AWS_IAM (SigV4), so the cart's lookups have a path of their own that the web ACL's shopper rate rules
leave out. It is not in the public OpenAPI document.

Unlike the original mock, an unknown product is a 404, so the cart can never store one.
"""

# No `from __future__ import annotations`: Powertools reads the route signatures at runtime.
import functools
import os
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from shared.config import ENV
from shared.cors import AllowedOriginsCORSConfig

from .catalogue import PRODUCT_ID_PATTERN, Product, load_catalogue

logger = Logger()
tracer = Tracer()

# The catalogue changes only with a deployment; let browsers and CDNs keep it for a minute.
_CACHE_CONTROL = "public, max-age=60"


@functools.cache
def _allowed_origins() -> frozenset[str]:
    # Read on first request, never at import (the OpenAPI generator imports this with no environment).
    return frozenset(ENV["ALLOWED_ORIGINS"].parse(os.environ.get("ALLOWED_ORIGINS", "").strip() or None))


app = APIGatewayRestResolver(enable_validation=True, cors=AllowedOriginsCORSConfig(_allowed_origins))
app.configure_openapi(
    title="Product mock API",
    version="1.0.0",
    description="The read-only product catalogue the cart takes product details from.",
)


class ProductListResponse(BaseModel):
    products: list[Product]


class ProductResponse(BaseModel):
    product: Product


class ErrorResponse(BaseModel):
    message: str


class ProductNotFoundError(Exception):
    pass


def _error_response(status: HTTPStatus, message: str) -> Response:
    return Response(
        status_code=status.value, content_type=content_types.APPLICATION_JSON, body={"message": message}
    )


@app.exception_handler(ProductNotFoundError)
def _product_not_found(error: ProductNotFoundError) -> Response:
    return _error_response(HTTPStatus.NOT_FOUND, str(error))


@app.exception_handler(RequestValidationError)
def _invalid_request(_error: RequestValidationError) -> Response:
    return _error_response(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid product id")


@app.not_found
def _route_not_found(_error: NotFoundError) -> Response:
    return _error_response(HTTPStatus.NOT_FOUND, "not found")


@app.exception_handler(ServiceError)
def _service_error(error: ServiceError) -> Response:
    return _error_response(HTTPStatus(error.status_code), error.msg)


def _ok(body: BaseModel) -> Response:
    return Response(
        status_code=HTTPStatus.OK.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(mode="json"),
        headers={"Cache-Control": _CACHE_CONTROL},
    )


@app.get("/product", summary="Every product of the catalogue", tags=["products"])
def list_products() -> Response[ProductListResponse]:
    return _ok(ProductListResponse(products=list(load_catalogue().values())))


@app.get(
    "/product/<product_id>",
    summary="One product",
    # 200 must be listed too: with explicit responses, Powertools documents only those (the schema of
    # the 200 comes from the return annotation).
    responses={
        200: {"description": "The product"},
        404: {"description": "Unknown product", "content": {"application/json": {"model": ErrorResponse}}},
        422: {
            "description": "Malformed product id",
            "content": {"application/json": {"model": ErrorResponse}},
        },
    },
    tags=["products"],
)
def get_product(
    product_id: Annotated[str, Path(pattern=PRODUCT_ID_PATTERN, description="Product id")],
) -> Response[ProductResponse]:
    return _product(product_id)


@app.get("/internal/product/<product_id>", include_in_schema=False)
def get_product_for_services(
    product_id: Annotated[str, Path(pattern=PRODUCT_ID_PATTERN, description="Product id")],
) -> Response[ProductResponse]:
    return _product(product_id)


def _product(product_id: str) -> Response[ProductResponse]:
    product = load_catalogue().get(product_id)
    if product is None:
        raise ProductNotFoundError(f"product {product_id} not found")
    return _ok(ProductResponse(product=product))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
