"""Signed updates (A7): Ed25519-signed bundles, installed beside the running version with rollback."""
