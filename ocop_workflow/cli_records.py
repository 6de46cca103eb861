"""A product's programme records (issue #12): association support, e-commerce listings, declared revenue."""

from __future__ import annotations

import click


@click.group("support")
def support() -> None:
    """support"""


@click.group("listing")
def listing() -> None:
    """listing"""


@click.group("revenue")
def revenue() -> None:
    """revenue"""
