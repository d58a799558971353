"""The analysis workspace: queries over DataStore tables, their results, and resources derived from
them that keep themselves up to date."""
