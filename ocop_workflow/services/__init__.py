"""Domain actions as plain functions over a SQLAlchemy session (they flush, the caller commits)."""

from .access import Actor, load_actor
from .documents import attach_document, get_document, list_documents
from .products import advance, available_triggers, create_product, get_product, history

__all__ = [
    "Actor",
    "advance",
    "attach_document",
    "available_triggers",
    "create_product",
    "get_document",
    "get_product",
    "history",
    "list_documents",
    "load_actor",
]
