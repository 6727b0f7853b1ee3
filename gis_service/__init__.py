"""GIS planning service for the renewal of old residential neighbourhoods."""

__version__ = "0.1.0"
