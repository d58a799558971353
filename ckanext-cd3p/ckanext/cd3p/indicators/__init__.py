"""Need indicators and the Digital Equity Index: the registry, their computation from DataStore
tables with small-cell suppression, the cache, the API and the equity pages and maps."""
