"""Run the whole shopping cart on one machine: `python -m local` (or `make dev`)."""
