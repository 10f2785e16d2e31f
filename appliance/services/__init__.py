"""Supervised services, one module each; `registry.build_specs` lists them in start order."""
