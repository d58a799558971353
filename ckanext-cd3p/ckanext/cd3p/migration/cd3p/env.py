"""Alembic environment of the cd3p plugin (CKAN runs it for `ckan db upgrade`)."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from ckanext.cd3p.agreements import model as _agreements  # noqa: F401 (the tables of each feature)
from ckanext.cd3p.analysis import model as _analysis  # noqa: F401
from ckanext.cd3p.common.model import metadata
from ckanext.cd3p.feeds import model as _feeds  # noqa: F401
from ckanext.cd3p.indicators import model as _indicators  # noqa: F401
from ckanext.cd3p.ingestion import model as _ingestion  # noqa: F401
from ckanext.cd3p.requests import model as _requests  # noqa: F401

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name)

target_metadata = metadata
name = os.path.basename(os.path.dirname(__file__))
version_table = f"{name}_alembic_version"


def include_object(obj, object_name, type_, reflected, compare_to):
    return object_name.startswith(name) if type_ == "table" else True


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        version_table=version_table,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table=version_table,
            include_object=include_object,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
