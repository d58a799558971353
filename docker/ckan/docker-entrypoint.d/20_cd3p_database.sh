# shellcheck shell=bash
# Sourced by the official /srv/app/start_ckan.sh (web container only): database migrations, then
# the DataStore permissions as the PostgreSQL superuser. The subshell keeps our shell options out
# of start_ckan.sh; `exit 1` stops the start rather than serve a half-migrated database.
(
    set -euo pipefail
    # shellcheck source=../lib.sh
    . "${CD3P_HOME:-/srv/app/cd3p}/lib.sh"
    cd3p_migrate
    cd3p_datastore_permissions
) || { echo "[cd3p] ERROR: database set-up failed; not starting CKAN" >&2; exit 1; }
