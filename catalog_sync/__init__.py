"""catalog-sync: a SQL copy of the Hoox asset-model catalog and its price history."""

__version__ = "0.1.0"
