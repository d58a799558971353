"""CKAN's factories with the fields our schemas require filled with plausible values."""

from __future__ import annotations

from ckan.tests import factories as ckan_factories
from ckan.tests.factories import (  # noqa: F401  (re-exported for the tests)
    APIToken,
    Group,
    Resource,
    Sysadmin,
    SysadminWithToken,
    User,
    UserWithToken,
)


class Organization(ckan_factories.Organization):
    sector = "nonprofit"


class Dataset(ckan_factories.Dataset):
    geography_level = "tract"
    contains_personal_data = "no"
