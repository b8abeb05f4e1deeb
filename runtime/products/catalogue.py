"""The bundled catalogue (catalogue.json), loaded once per container and checked on load."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

CATALOGUE_FILE = Path(__file__).with_name("catalogue.json")
PRODUCT_ID_PATTERN = r"^[A-Za-z0-9-]{1,64}$"


class Product(BaseModel):
    model_config = ConfigDict(strict=True, frozen=True)

    productId: str = Field(pattern=PRODUCT_ID_PATTERN, examples=["trail-lantern"])
    name: str
    category: str
    description: str
    price: StrictInt = Field(ge=0, description="Price in integer cents", examples=[3499])
    image: str = Field(description="Path of the product's image, served by the storefront")


_PRODUCT_LIST = TypeAdapter(list[Product])


@functools.cache
def load_catalogue() -> dict[str, Product]:
    """Products by id, in catalogue order. A malformed catalogue fails loudly at the first request."""
    products = _PRODUCT_LIST.validate_python(
        json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["products"]
    )
    by_id = {product.productId: product for product in products}
    if len(by_id) != len(products):
        raise ValueError("catalogue.json has duplicate product ids")
    return by_id
