"""API routes of a unit's programme records (issue #12): material areas, value chains, sales points, trainings."""
