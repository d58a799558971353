"""Data requests: residents and partners ask the City or a partner for new data, or for access to
an organization-only or partner-tier dataset (issue 16)."""
