"""The workflow definitions as pages: the list (`/workflows`) and one page per definition version."""
