"""Lambda code of the shopping cart. Each subpackage (cart, products) is the root of a function asset;
installed, this folder ships as `shopping_cart.runtime` so the constructs can find it."""
