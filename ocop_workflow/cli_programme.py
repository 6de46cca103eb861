"""A unit's programme records (issue #12): raw-material areas, value-chain models, sales points, trainings."""

from __future__ import annotations

import click


@click.group("area")
def area() -> None:
    """area"""


@click.group("chain")
def chain() -> None:
    """chain"""


@click.group("sales-point")
def sales_point() -> None:
    """sales-point"""


@click.group("training")
def training() -> None:
    """training"""
