"""The demographic catalog: the scheming schemas, search (index fields, facets, labels) and who sees
the data steward's contact."""
