"""Request and response bodies of the cart API (validated by Powertools, published as OpenAPI).

Field names are those of the original sample (camelCase), so that its clients keep working.
Integers are strict: `true`, `1.0` and `"1"` are not quantities.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

PRODUCT_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"

ProductId = Annotated[
    str,
    StringConstraints(strict=True, pattern=PRODUCT_ID_PATTERN),
    Field(
        description="Product id: letters, digits and dashes, 1 to 64 characters", examples=["trail-lantern"]
    ),
]


class AddToCartRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    productId: ProductId
    # Defaults to 1 as in the original sample. Bounds (-MAX_QUANTITY..MAX_QUANTITY, not 0) are a
    # setting, so they are checked by the cart rules rather than fixed in the schema.
    quantity: StrictInt = Field(
        default=1, description="How many to add; negative removes (never below 0); not 0", examples=[1]
    )


class SetQuantityRequest(BaseModel):
    # Extra fields are ignored: the original client also sends the productId, which the path fixes.
    model_config = ConfigDict(strict=True)

    quantity: StrictInt = Field(
        description="The new quantity, 0..MAX_QUANTITY; 0 removes the line", examples=[3]
    )


class CartLineResponse(BaseModel):
    sk: str = Field(description="The product id (kept for clients of the original sample)")
    productId: str
    quantity: int
    productDetail: dict[str, Any] = Field(description="The product as the product service described it")


class CartResponse(BaseModel):
    products: list[CartLineResponse]


class CartLineUpdatedResponse(BaseModel):
    productId: str
    quantity: int = Field(description="The line's quantity after the change (0: no longer in the cart)")
    message: str


class ProductTotalResponse(BaseModel):
    product: str
    quantity: int


class TotalsResponse(BaseModel):
    totals: list[ProductTotalResponse]


class ErrorResponse(BaseModel):
    message: str
    detail: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid requests: where (loc) and what (type), never the input"
    )
