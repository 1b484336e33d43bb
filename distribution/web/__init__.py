"""`pressroom web`: unsubscribe, sign-up and preference pages, and the public newsroom."""

from distribution.web.app import create_app

__all__ = ["create_app"]
