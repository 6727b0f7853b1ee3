"""Fixtures of the account tests: the field tests' live server on a demo copy, browser contexts."""

from tests.field.conftest import contexts, field_server  # noqa: F401  (fixtures of these tests)
