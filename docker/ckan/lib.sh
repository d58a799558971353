# shellcheck shell=bash
# CD3P start-up steps, shared by the image's ENTRYPOINT (entrypoint.sh) and the hooks that the
# official image's start_ckan.sh runs from /docker-entrypoint.d/. Every step is idempotent: a
# container may restart at any point and run them all again.
#
# Callers run these with `set -euo pipefail`. A failed step exits the calling (sub)shell, so
# CKAN never starts on a half-set-up database; the restart policy then retries.

CD3P_HOME=${CD3P_HOME:-/srv/app/cd3p}

cd3p_log() { printf '[cd3p] %s\n' "$*"; }
cd3p_die() { printf '[cd3p] ERROR: %s\n' "$*" >&2; exit 1; }
cd3p_probe() { python3 "$CD3P_HOME/probe.py" "$@"; }

# The API token xloader uses lives on the storage volume, which the web and worker containers
# share: the web container makes it once, the worker reads it, and restarts reuse it instead of
# minting a new token each time.
cd3p_token_file() { printf '%s/cd3p/xloader-api-token' "${CKAN_STORAGE_PATH:-/var/lib/ckan}"; }

# Blocks until both databases (with our roles), Solr and Redis answer; compose's health checks
# cover the first start, this covers restarts of single services and non-compose deployments.
cd3p_wait() {
    cd3p_probe wait "${CD3P_WAIT_SECONDS:-300}" || cd3p_die "a service CKAN needs did not come up (see above)"
}

# Prints the xloader token to use, if one is known and still good: the one given in the
# environment, else the one kept on the storage volume if it is a live sysadmin token signed
# with the current secret (a wiped database or a new secret invalidates it).
cd3p_known_xloader_token() {
    if [ -n "${CD3P_XLOADER_API_TOKEN:-}" ]; then
        printf '%s' "$CD3P_XLOADER_API_TOKEN"
        return 0
    fi
    local file token
    file=$(cd3p_token_file)
    [ -s "$file" ] || return 0
    token=$(tr -d '[:space:]' <"$file")
    if cd3p_probe token "$token"; then
        printf '%s' "$token"
    fi
}

# Writes every per-deployment setting from the environment into $CKAN_INI. The same settings
# also reach CKAN through its own CKAN_* variables and ckanext-envvars, but writing them keeps
# the ini complete for `docker compose exec ckan ckan ...` and for anyone reading it.
cd3p_configure() {
    : "${CKAN_INI:?}" "${CKAN__PLUGINS:?}" "${CKAN_SITE_URL:?}"
    : "${CKAN_SQLALCHEMY_URL:?}" "${CKAN_DATASTORE_WRITE_URL:?}" "${CKAN_DATASTORE_READ_URL:?}"
    : "${CKAN_SOLR_URL:?}" "${CKAN_REDIS_URL:?}"
    : "${CD3P_SECRET_KEY:?CD3P_SECRET_KEY must be set (see docker/.env.example)}"
    local -a opts=(
        "ckan.plugins = $CKAN__PLUGINS"
        "ckan.site_url = $CKAN_SITE_URL"
        "ckan.site_id = ${CKAN_SITE_ID:-cd3p}"
        # One secret for sessions, CSRF and API tokens, as in development. It must be the same
        # in every container (and every web replica), or tokens and sessions stop validating.
        "SECRET_KEY = $CD3P_SECRET_KEY"
        "WTF_CSRF_SECRET_KEY = $CD3P_SECRET_KEY"
        "api_token.jwt.encode.secret = string:$CD3P_SECRET_KEY"
        "api_token.jwt.decode.secret = string:$CD3P_SECRET_KEY"
        "SESSION_TYPE = ${CD3P_SESSION_TYPE:-cookie}"
        "sqlalchemy.url = $CKAN_SQLALCHEMY_URL"
        "ckan.datastore.write_url = $CKAN_DATASTORE_WRITE_URL"
        "ckan.datastore.read_url = $CKAN_DATASTORE_READ_URL"
        "solr_url = $CKAN_SOLR_URL"
        "ckan.redis.url = $CKAN_REDIS_URL"
        "ckan.storage_path = ${CKAN_STORAGE_PATH:-/var/lib/ckan}"
        "ckanext.xloader.jobs_db.uri = $CKAN_SQLALCHEMY_URL"
        # The worker fetches uploaded files over HTTP. ckan.site_url is the public address, which
        # inside the compose network may not lead back to CKAN; this one does.
        "ckanext.xloader.site_url = ${CD3P_INTERNAL_URL:-http://ckan:5000}"
        "ckanext.cd3p.data_dir = ${CD3P_DATA_DIR:-/srv/app/data/detroit}"
        "ckanext.cd3p.demo.user = ${CD3P_ADMIN_USER:-admin}"
        "ckanext.spatial.common_map.custom_url = ${CD3P_TILE_URL:-}"
        "ckanext.spatial.common_map.attribution = ${CD3P_TILE_ATTRIBUTION:-}"
    )
    local token
    token=$(cd3p_known_xloader_token)
    if [ -n "$token" ]; then
        opts+=("ckanext.xloader.api_token = $token")
    fi
    ckan config-tool "$CKAN_INI" "${opts[@]}" >/dev/null
    cd3p_log "settings from the environment written to $CKAN_INI"
}

# Core and plugin migrations (activity, xloader's jobs tables, ours). The base image's prerun.py
# runs `ckan db init` too; running upgrade again is a no-op then, and it is the step that counts
# when the image is started without prerun.
cd3p_migrate() {
    cd3p_log "migrating the database"
    ckan -c "$CKAN_INI" db upgrade
}

# `ckan datastore set-permissions` emits SQL that only a superuser may run (it revokes rights on
# the public schema and grants the read-only role). Skipped, with a note, when no superuser
# password is given, e.g. on a managed database whose administrator runs it once by hand.
cd3p_datastore_permissions() {
    if [ -z "${CD3P_DB_SUPERUSER_PASSWORD:-}" ]; then
        cd3p_log "CD3P_DB_SUPERUSER_PASSWORD not set: skipping datastore set-permissions (see docker/README.md)"
        return 0
    fi
    local host port db
    read -r host port db < <(cd3p_probe pg-target CKAN_DATASTORE_WRITE_URL)
    [ -n "$db" ] || cd3p_die "could not read the DataStore database from CKAN_DATASTORE_WRITE_URL"
    ckan -c "$CKAN_INI" datastore set-permissions \
        | PGPASSWORD="$CD3P_DB_SUPERUSER_PASSWORD" psql -X -q -v ON_ERROR_STOP=1 \
            -h "$host" -p "$port" -U "${CD3P_DB_SUPERUSER:-postgres}" -d "$db" >/dev/null
    cd3p_log "DataStore permissions set on $db"
}

# The sysadmin a person logs in with, created once. Its password is read only on creation;
# change it later in the web interface or with `ckan user setpass`.
cd3p_admin_user() {
    local admin=${CD3P_ADMIN_USER:-admin} out
    out=$(ckan -c "$CKAN_INI" user show "$admin")
    case "$out" in
        *"User: None"*)
            : "${CD3P_ADMIN_PASSWORD:?CD3P_ADMIN_PASSWORD must be set to create the sysadmin}"
            : "${CD3P_ADMIN_EMAIL:?CD3P_ADMIN_EMAIL must be set to create the sysadmin}"
            ckan -c "$CKAN_INI" user add "$admin" "email=$CD3P_ADMIN_EMAIL" \
                "password=$CD3P_ADMIN_PASSWORD" "fullname=CD3P administrator" >/dev/null
            ckan -c "$CKAN_INI" sysadmin add "$admin" >/dev/null
            cd3p_log "created the sysadmin '$admin'"
            ;;
        *"User: "*) cd3p_log "sysadmin '$admin' exists" ;;
        *) cd3p_die "could not look up the user '$admin'" ;;
    esac
}

# The token xloader sends when it fetches uploads and reports back. Made for the sysadmin unless
# one is given (CD3P_XLOADER_API_TOKEN) or a still-valid one is kept on the storage volume.
cd3p_xloader_token() {
    local admin=${CD3P_ADMIN_USER:-admin} file token
    file=$(cd3p_token_file)
    token=$(cd3p_known_xloader_token)
    if [ -z "$token" ]; then
        token=$(ckan -c "$CKAN_INI" user token add -q "$admin" xloader | tail -n 1 | tr -d '[:space:]')
        [ -n "$token" ] || cd3p_die "could not create an API token for xloader"
        (
            umask 077
            mkdir -p "$(dirname "$file")"
            printf '%s\n' "$token" >"$file.tmp"
            mv -f "$file.tmp" "$file"
        )
        cd3p_log "created an API token for xloader (user '$admin'), kept in $file"
    fi
    ckan config-tool "$CKAN_INI" "ckanext.xloader.api_token = $token" >/dev/null
}

# The Data Sharing Agreement: activate the shipped template when no version is active yet
# (idempotent). Replace it with the City's approved text in Sysadmin -> Agreements.
cd3p_agreement() {
    ckan -c "$CKAN_INI" cd3p agreement init
}
