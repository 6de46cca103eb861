"""The programme records pages (issue #12): raw-material areas, value chains, sales points, trainings."""
