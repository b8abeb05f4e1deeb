"""Unit tests of the Lambda runtime (runtime/): moto, local HTTP servers, no network."""
