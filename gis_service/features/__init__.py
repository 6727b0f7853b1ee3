"""OGC API Features over the layer catalog: GeoJSON encoding, queries, CQL2 filters, edits."""
