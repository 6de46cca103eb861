"""OCOP Workflow core: models, workflow engine, services. Never imports Flask."""

import logging

logging.getLogger(__name__).addHandler(logging.NullHandler())

__version__ = "0.1.0"
