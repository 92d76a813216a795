"""Use cases. Each public call owns its transaction: all of it happens or none of it does."""
