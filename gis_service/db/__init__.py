"""Database: managed cluster, engine, models and migrations."""
