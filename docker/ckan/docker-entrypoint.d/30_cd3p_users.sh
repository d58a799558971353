# shellcheck shell=bash
# Sourced by the official /srv/app/start_ckan.sh (web container only): the sysadmin from
# CD3P_ADMIN_* if it does not exist yet, the API token xloader uses, and an active Data Sharing
# Agreement (the shipped template) when there is none. Runs before uWSGI starts,
# so the web server reads the token from the ini; the worker reads it from the storage volume.
(
    set -euo pipefail
    # shellcheck source=../lib.sh
    . "${CD3P_HOME:-/srv/app/cd3p}/lib.sh"
    cd3p_admin_user
    cd3p_xloader_token
    cd3p_agreement
) || { echo "[cd3p] ERROR: user set-up failed; not starting CKAN" >&2; exit 1; }
