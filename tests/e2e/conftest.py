"""Fixtures of every end-to-end test: the stores a multi-process test runs against."""

from tests.e2e.stores import store_url  # noqa: F401 - a fixture, found by its name
