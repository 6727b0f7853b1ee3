"""Fixtures of the analysis tests: real small street graphs, no database."""

from __future__ import annotations

import pytest

from gis_service.analysis.network import StreetGraph, build_graph
from tests.analysis.helpers import lattice_lines


@pytest.fixture
def lattice() -> StreetGraph:
    """A 3 x 3 lattice of 100 m blocks (16 nodes, 24 edges)."""
    return build_graph(lattice_lines())
