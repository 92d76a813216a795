"""An xAPI Learning Record Store (xAPI 1.0.3 and 2.0.0) with learning analytics."""

__version__ = "0.1.0"
