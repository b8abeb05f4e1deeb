"""Shopping cart: the cart API, the totals aggregator and the delete worker (see docs/DESIGN.md)."""
