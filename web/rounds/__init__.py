"""Councils, evaluation rounds and score sheets on the web (issue #9): pages over the core services."""
