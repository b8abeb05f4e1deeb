"""Product mock: a read-only catalogue served over HTTP (see docs/DESIGN.md)."""
