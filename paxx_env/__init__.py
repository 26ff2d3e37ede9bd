"""paxx: a reproducible local service environment for Python web projects."""

__version__ = "0.1.0"
