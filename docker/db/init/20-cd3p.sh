#!/bin/bash
# CD3P roles and databases on a PostGIS server. The postgres image runs this once, when it
# initialises an empty data volume (after the image's own 10_postgis.sh). It is idempotent, so it
# can be run again at any time, in the container or against a managed server:
#
#   docker compose exec db bash /docker-entrypoint-initdb.d/20-cd3p.sh
#   PGHOST=db.example.org PGUSER=admin PGPASSWORD=... CD3P_DB_PASSWORD=... CD3P_DS_RO_PASSWORD=... \
#     bash docker/db/init/20-cd3p.sh
#
# Re-running it also resets the two roles' passwords to the ones given, which is how a password
# changed in docker/.env reaches a database that already exists.
#
# Creates:
#   ckan_default   owns both databases; CKAN's read-write role (also used by xloader's jobs tables)
#   datastore_ro   the DataStore's read-only role (datastore_search_sql and the read URL)
#   CD3P_CKAN_DB   CKAN's own tables
#   CD3P_DATASTORE_DB  the DataStore, with PostGIS in a schema of its own named "postgis": CKAN's
#                  set-permissions revokes PUBLIC's rights on the public schema, and the geography
#                  joins of the indicators need PostGIS callable by both roles.
#
# Not `set -u`: the postgres entrypoint sources scripts that are not executable, and its own code
# is not written for nounset. Required variables are checked one by one instead.
set -eo pipefail

: "${CD3P_DB_PASSWORD:?CD3P_DB_PASSWORD (password of ckan_default) is not set}"
: "${CD3P_DS_RO_PASSWORD:?CD3P_DS_RO_PASSWORD (password of datastore_ro) is not set}"
cd3p_ckan_db=${CD3P_CKAN_DB:-cd3p}
cd3p_datastore_db=${CD3P_DATASTORE_DB:-cd3p_datastore}

# In the container: the local socket as the superuser. Elsewhere: PGHOST/PGUSER/... as given.
cd3p_psql() {
    psql -X -q -v ON_ERROR_STOP=1 --username "${PGUSER:-${POSTGRES_USER:-postgres}}" "$@"
}

echo "cd3p: roles and databases ($cd3p_ckan_db, $cd3p_datastore_db)"
# psql variables (:'name') quote the values, so passwords and names need no escaping here.
cd3p_psql --dbname postgres \
    -v ckan_pw="$CD3P_DB_PASSWORD" -v ro_pw="$CD3P_DS_RO_PASSWORD" \
    -v ckan_db="$cd3p_ckan_db" -v ds_db="$cd3p_datastore_db" <<'SQL'
SET client_min_messages = warning;
SELECT 'CREATE ROLE ckan_default' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ckan_default') \gexec
SELECT 'CREATE ROLE datastore_ro' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'datastore_ro') \gexec
ALTER ROLE ckan_default WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ckan_pw';
ALTER ROLE datastore_ro WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'ro_pw';

-- template0: a clean UTF-8 database, without the PostGIS that the image puts into template_postgis
-- and the default database (it would sit in the public schema).
SELECT format('CREATE DATABASE %I OWNER ckan_default ENCODING %L TEMPLATE template0', :'ckan_db', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'ckan_db') \gexec
SELECT format('CREATE DATABASE %I OWNER ckan_default ENCODING %L TEMPLATE template0', :'ds_db', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'ds_db') \gexec

-- Only CKAN connects to its own database; the read-only role has no business there.
SELECT format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', :'ckan_db') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO ckan_default', :'ckan_db') \gexec
SQL

echo "cd3p: PostGIS in schema postgis of $cd3p_datastore_db"
cd3p_psql --dbname "$cd3p_datastore_db" -v ds_db="$cd3p_datastore_db" <<'SQL'
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS postgis SCHEMA postgis;
GRANT USAGE ON SCHEMA postgis TO PUBLIC;
SELECT format('ALTER DATABASE %I SET search_path = "$user", public, postgis', :'ds_db') \gexec
SQL

echo "cd3p: database set-up done (CKAN sets the DataStore permissions when it starts)"
