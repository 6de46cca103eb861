"""The process figures page (issue #12, item 3): /reports/process."""
