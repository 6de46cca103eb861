"""Public pages without login: the verification of a certificate and the register of valid certificates."""

from .routes import bp

__all__ = ["bp"]
