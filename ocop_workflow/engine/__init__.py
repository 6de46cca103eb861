"""Workflow definitions (YAML) turned into validated, cached `transitions` machines."""

from .definition import (
    Catalogue,
    DocumentRequirement,
    Evaluation,
    Range,
    RatingRule,
    StateDef,
    TransitionDef,
    WorkflowDefinition,
    star_for_score,
)
from .loader import load_catalogue, load_definition, load_directory
from .permissions import Policy, load_policy
from .registry import Registry, get_registry

__all__ = [
    "Catalogue",
    "DocumentRequirement",
    "Evaluation",
    "Range",
    "RatingRule",
    "Registry",
    "StateDef",
    "TransitionDef",
    "Policy",
    "WorkflowDefinition",
    "get_registry",
    "load_policy",
    "load_catalogue",
    "load_definition",
    "load_directory",
    "star_for_score",
]
