"""A product's programme records on the web (issue #12): the product page's "Support and market" section."""
