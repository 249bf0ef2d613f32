"""Blueprints, one module per resource: each view loads, calls and renders."""
