"""Plans, their targets and progress reports (issue #12)."""

from __future__ import annotations

import click


@click.group("plan")
def plan() -> None:
    """plan"""


@click.group("report")
def report() -> None:
    """report"""
