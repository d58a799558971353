"""Feeds and freshness (issue 18). Freshness: whether each dataset is as up to date as its declared
update frequency promises (fresh, due, overdue, delinquent), its last data change, the badge, the
facet, the admin list of datasets past due and the daily job that tells stewards and sysadmins."""
