"""API routes of a product's programme records (issue #12): association support, listings, revenue."""
