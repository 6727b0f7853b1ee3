"""Tests of the pure analysis engine (no database)."""
