"""End-to-end tests against a local Discord twin (see README.md)."""
