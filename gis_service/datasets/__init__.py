"""Data for the analysis engine: PostGIS reads, area filters, result cache, analysis runs.

The engine in gis_service.analysis is pure; this package is the one that reads the database
(in the caller's scoped connection) and feeds it, for the API and the CLI alike. Modules:

- area: area filters (hierarchy ids or a lon/lat box) and the margin around them
- load: stairwells with building and hierarchy attributes, amenity layers, streets, statuses
- cache: a bounded in-memory cache keyed by parameters, caller scope and data versions
- params: validated parameters (levels, layers, kinds, radii from the catalog)
- runs: coverage, nearest service, gaps and service-area runs over loaded data
- siting: candidate sites that serve the most households not served yet
- scenarios: stored scenarios, their validation against the database and evaluation
- formats: JSON-safe records, CSV and GeoJSON output
"""
