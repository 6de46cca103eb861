"""The plan pages: each plan's targets with their progress as of a day, per area (issue #12)."""
