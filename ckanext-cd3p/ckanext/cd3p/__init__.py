"""CD3P CKAN extension."""
