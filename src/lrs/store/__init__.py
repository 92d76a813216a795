"""Storage: the only package that imports SQLAlchemy (DESIGN.md principle 1)."""
