"""Credentials, xAPI scopes and the authority a credential writes under."""
