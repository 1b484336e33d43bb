"""Jinja templates and the stylesheet of `pressroom web`, shipped as package data."""
