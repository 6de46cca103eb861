"""Recognition decisions and certificates: the signed-in pages (issue #10)."""
