"""Pure analysis engine: coverage, street network, service areas, catchments, siting, scenarios.

Inputs are DataFrames, GeoDataFrames (in a metric CRS, see crs.to_metric) and arrays; no
HTTP and no database sessions in here. Modules:

- coverage: eligibility, retrofit coverage per level, pipeline funnel, batch projection
- network: street graph from lines (junctions, T-junctions, CSR matrix, components)
- snapping: points onto the nearest street segment; snapped-to-snapped distances
- routing: one-pass multi-source Dijkstra (node or snapped sources)
- service: nearest facility crow-flies / along streets, shares served per level
- service_area: reached street pieces buffered into service-area polygons
- street_chains: pieces joined end to end into chains, so fewer lines are buffered
- line_buffers: lines' round buffers dissolved per group in one Clipper2 offset (clipper2-py)
- catchment: reach relations and two-step floating catchment (2SFCA)
- siting: maximal covering location (lazy greedy + 1-swap, exact CBC)
- scenario: interventions evaluated against a baseline
- crs: metric_crs (UTM zone of the data), to_metric, as_points
"""
