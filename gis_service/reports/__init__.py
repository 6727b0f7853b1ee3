"""Printed reports: a PDF per compound, community or subdistrict, and map pictures."""
