"""API routes of plans and their progress reports (issue #12): /api/v1/plans, /plans/{id}/report."""
