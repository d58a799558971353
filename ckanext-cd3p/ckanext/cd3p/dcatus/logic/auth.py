"""No auth functions of its own: reading a catalog is ckanext-dcat's ``dcat_auth`` (anyone may),
and what a catalog may describe is decided in ``logic/action.py`` (what a visitor may see)."""
