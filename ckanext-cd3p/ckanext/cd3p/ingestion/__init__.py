"""Checks before loading (personal data, geography codes, readable files), the all-or-nothing load
into the DataStore, and the small-cell-suppressed views the public reads."""
