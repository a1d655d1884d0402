"""Thin Slack adapters: one module per feature, each with `register(app, deps)`.

Block Kit is built in blocks/ (one module per feature); payloads.py reads what Slack sends.
"""
