"""Web maps: Folium pages built from maps/*.yaml over our tiles, features and analysis APIs."""

from gis_service.webmap.build import build_map, render_page
from gis_service.webmap.config import Status

__all__ = ["Status", "build_map", "render_page"]
