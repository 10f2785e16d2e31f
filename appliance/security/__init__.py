"""Passwords, keys and certificates."""
