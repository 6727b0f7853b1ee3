"""Fixtures of the operations tests: the field tests' live server on a demo copy."""

from tests.field.conftest import field_server  # noqa: F401  (a fixture used here too)
