"""Tests of the features package: CQL2, filters, values."""
