"""The federal catalog's format: DCAT-US 3 for data.gov and other harvesters.

ckanext-dcat serves ``/catalog.{ttl,jsonld,xml}`` and each dataset's ``/dataset/<id>.{ttl,jsonld,rdf}``;
this feature adds to it:

- ``profiles.py``: the ``cd3p_dcat_us_3`` profile, ckanext-dcat's DCAT-US 3 profile fed with our
  schema's fields (topics and dimensions as keywords and themes, update frequency as
  ``accrualPeriodicity``, the organization as publisher and its public contact as ``contactPoint``,
  never the data steward, DataStore API links);
- ``logic/action.py``: the one rule of what a catalog may describe, what an anonymous visitor may
  see: partner-tier, organization-only and held datasets (a held file makes its dataset
  organization-only) appear in no catalog output, whoever asks.
"""
