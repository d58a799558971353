#!/usr/bin/env bash
# The CKAN side of CD3P, for one environment (development, test or bench):
#
#   scripts/portal.sh setup  ENV...   render the ini files, create roles/databases, migrate, permissions
#   scripts/portal.sh start  ENV      start the xloader worker and the web server in the background
#                                     (and, for development, the scheduler of periodic jobs)
#   scripts/portal.sh restart ENV...  the same, stopping this environment's old ones first
#   scripts/portal.sh stop   [ENV]   stop the worker, web server and scheduler this script started
#   scripts/portal.sh status [ENV]
#
# Expects scripts/services.sh up to have run. Idempotent: each step checks before it acts. Given
# several environments (make test: test and its parallel test-gwN), setup and restart do them at
# the same time, each with its output in var/log/<step>-<env>.out, shown once all are done (on
# stderr for one that failed, and the command fails).
# `bench` is the indicator benchmark's generated city (benchmarks/gen_city.py, make bench): its own
# databases, Redis database, web port and data folder; it shares the development Solr core, which
# CKAN scopes by ckan.site_id.
set -euo pipefail

CD3P_ROOT=${CD3P_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CD3P_VAR=${CD3P_VAR:-$CD3P_ROOT/var}
CD3P_VENV=${CD3P_VENV:-$CD3P_ROOT/.venv}
CD3P_PG_PORT=${CD3P_PG_PORT:-5432}
CD3P_REDIS_PORT=${CD3P_REDIS_PORT:-6379}
CD3P_SOLR_PORT=${CD3P_SOLR_PORT:-8983}
CD3P_DATA_DIR=${CD3P_DATA_DIR:-$(cd "$CD3P_ROOT/.." && pwd)/shared/data/detroit}
CD3P_TILE_URL=${CD3P_TILE_URL:-}
CD3P_TILE_ATTRIBUTION=${CD3P_TILE_ATTRIBUTION:-}
# Seconds between the scheduler's ticks and between runs of the recovery job (the failure tests'
# services run them often: tests/resilience/).
CD3P_SCHEDULER_INTERVAL=${CD3P_SCHEDULER_INTERVAL:-60}
CD3P_RECOVERY_PERIOD=${CD3P_RECOVERY_PERIOD:-60}
export CD3P_ROOT CD3P_VAR CD3P_PG_PORT CD3P_REDIS_PORT CD3P_SOLR_PORT CD3P_DATA_DIR CD3P_TILE_URL CD3P_TILE_ATTRIBUTION
export CD3P_SCHEDULER_INTERVAL CD3P_RECOVERY_PERIOD

ETC="$CD3P_VAR/etc"
LOG="$CD3P_VAR/log"
RUN="$CD3P_VAR/run"
CKAN="$CD3P_VENV/bin/ckan"
# The web server's processes and request time limit: the CKAN image's (docker/).
CD3P_WEB_PROCESSES=${CD3P_WEB_PROCESSES:-2}
CD3P_WEB_HARAKIRI=${CD3P_WEB_HARAKIRI:-300}
mkdir -p "$ETC" "$LOG" "$RUN"

say() { printf '%s\n' "$*"; }
# Runs a command again whenever it ends, until this shell is stopped (TERM or INT): then the command
# is stopped too (TERM, then KILL after 4 s), so that nothing is left behind.
keep_running() {
    local child=0
    trap 'kill -TERM "$child" 2>/dev/null; for _ in $(seq 1 40); do kill -0 "$child" 2>/dev/null || exit 0; sleep 0.1; done; kill -KILL "$child" 2>/dev/null; exit 0' TERM INT
    while true; do
        "$@" &
        child=$!
        wait "$child" || true
        sleep 2
    done
}
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
pid_alive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
psql_super() { psql -X -q -v ON_ERROR_STOP=1 -h "$CD3P_VAR/postgres/run" -p "$CD3P_PG_PORT" -U postgres "$@"; }

# Each environment's web port, read once: use_env exports CD3P_WEB_PORT for the environment it
# selects, so reading it again later would give the other environment the same port.
DEV_WEB_PORT=${CD3P_WEB_PORT:-5000}
TEST_WEB_PORT=${CD3P_TEST_WEB_PORT:-5001}
BENCH_WEB_PORT=${CD3P_BENCH_WEB_PORT:-5002}
# Likewise the data folders: the Detroit data, and the bench environment's generated city.
DEV_DATA_DIR=$CD3P_DATA_DIR
BENCH_DATA_DIR=${CD3P_BENCH_DATA_DIR:-$CD3P_VAR/bench-city}

# Per-environment names: the environments share the servers but nothing stored in them.
# TEMPLATE is the ini template under config/ckan/; TOKEN_FILE the sysadmin API token the xloader
# worker uses (test.ini sets none: the tests make their own).
use_env() {
    case "$1" in
        development|dev)
            CD3P_ENV=development; CD3P_SITE_ID=cd3p; CD3P_WEB_PORT=$DEV_WEB_PORT
            CD3P_CKAN_DB=cd3p; CD3P_DATASTORE_DB=cd3p_datastore; CD3P_SOLR_CORE=ckan; CD3P_REDIS_DB=0
            CD3P_DATA_DIR=$DEV_DATA_DIR; TEMPLATE=development; TOKEN_FILE="$ETC/xloader-token" ;;
        test)
            CD3P_ENV=test; CD3P_SITE_ID=cd3p-test; CD3P_WEB_PORT=$TEST_WEB_PORT
            CD3P_CKAN_DB=cd3p_test; CD3P_DATASTORE_DB=cd3p_test_datastore; CD3P_SOLR_CORE=ckan_test; CD3P_REDIS_DB=1
            CD3P_DATA_DIR=$DEV_DATA_DIR; TEMPLATE=test; TOKEN_FILE="$ETC/xloader-token" ;;
        test-gw[0-9]|test-gw[0-9][0-9])
            # One per parallel test process (pytest-xdist's worker gwN; make test): the test
            # environment's settings with names of its own, a Redis database each (3 + N).
            local n=${1#test-gw}
            CD3P_ENV=$1; CD3P_SITE_ID=cd3p-$1; CD3P_WEB_PORT=$((TEST_WEB_PORT + 10 + n))
            CD3P_CKAN_DB=cd3p_test_gw$n; CD3P_DATASTORE_DB=cd3p_test_gw${n}_datastore
            CD3P_SOLR_CORE=ckan_test_gw$n; CD3P_REDIS_DB=$((3 + n))
            CD3P_DATA_DIR=$DEV_DATA_DIR; TEMPLATE=test; TOKEN_FILE="$ETC/xloader-token" ;;
        bench)
            CD3P_ENV=bench; CD3P_SITE_ID=cd3p-bench; CD3P_WEB_PORT=$BENCH_WEB_PORT
            CD3P_CKAN_DB=cd3p_bench; CD3P_DATASTORE_DB=cd3p_bench_datastore; CD3P_SOLR_CORE=ckan; CD3P_REDIS_DB=2
            CD3P_DATA_DIR=$BENCH_DATA_DIR; TEMPLATE=development; TOKEN_FILE="$ETC/bench-token" ;;
        scale)
            # The catalog-at-scale benchmark (benchmarks/bench_scale.py, make bench-scale): 10,000
            # generated datasets in CD3P, with a Solr core and Redis database of its own.
            CD3P_ENV=scale; CD3P_SITE_ID=cd3p-scale; CD3P_WEB_PORT=${CD3P_SCALE_WEB_PORT:-5003}
            CD3P_CKAN_DB=cd3p_scale; CD3P_DATASTORE_DB=cd3p_scale_datastore; CD3P_SOLR_CORE=ckan_scale; CD3P_REDIS_DB=7
            CD3P_DATA_DIR=$DEV_DATA_DIR; TEMPLATE=development; TOKEN_FILE="$ETC/scale-token" ;;
        plain)
            # The same catalog in CKAN with ckanext-scheming alone, no cd3p plugin (config/ckan/plain.ini.in;
            # its schemas, copies of ours with plain scheming validators, are written by setup).
            CD3P_ENV=plain; CD3P_SITE_ID=ckan-plain; CD3P_WEB_PORT=${CD3P_PLAIN_WEB_PORT:-5004}
            CD3P_CKAN_DB=cd3p_plain; CD3P_DATASTORE_DB=cd3p_plain_datastore; CD3P_SOLR_CORE=ckan_plain; CD3P_REDIS_DB=8
            CD3P_DATA_DIR=$DEV_DATA_DIR; TEMPLATE=plain; TOKEN_FILE="$ETC/plain-token" ;;
        *) die "unknown environment '$1' (use development, test, test-gwN or bench)" ;;
    esac
    INI="$ETC/$CD3P_ENV.ini"
    export CD3P_ENV CD3P_SITE_ID CD3P_WEB_PORT CD3P_CKAN_DB CD3P_DATASTORE_DB CD3P_SOLR_CORE CD3P_REDIS_DB CD3P_DATA_DIR
}

# Secrets are made once per machine and kept under var/, which git ignores.
load_secrets() {
    local f="$ETC/secrets.env"
    if [ ! -s "$f" ]; then
        umask 077
        {
            for k in CD3P_SECRET CD3P_DB_PASSWORD CD3P_DS_RO_PASSWORD CD3P_ADMIN_PASSWORD; do
                printf '%s=%s\n' "$k" "$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 24)"
            done
        } >"$f"
    fi
    set -a; . "$f"; set +a
    CD3P_XLOADER_TOKEN=$(cat "$TOKEN_FILE" 2>/dev/null || echo NOT_SET)
    export CD3P_XLOADER_TOKEN
}

VARS='${CD3P_WEB_PORT} ${CD3P_SITE_ID} ${CD3P_SECRET} ${CD3P_DB_PASSWORD} ${CD3P_DS_RO_PASSWORD} ${CD3P_PG_PORT}
${CD3P_CKAN_DB} ${CD3P_DATASTORE_DB} ${CD3P_SOLR_PORT} ${CD3P_SOLR_CORE} ${CD3P_REDIS_PORT} ${CD3P_REDIS_DB}
${CD3P_VAR} ${CD3P_ENV} ${CD3P_XLOADER_TOKEN} ${CD3P_DATA_DIR} ${CD3P_TILE_URL} ${CD3P_TILE_ATTRIBUTION}
${CD3P_SCHEDULER_INTERVAL} ${CD3P_RECOVERY_PERIOD}'

# test.ini inherits development.ini, so both are always rendered, each with its own names;
# bench.ini (a copy of development.ini with the bench names) only when bench is the environment.
render() {
    umask 077
    local env envs="development test"
    case "${CD3P_ENV:-}" in bench|test-gw*|scale|plain) envs="$envs $CD3P_ENV" ;; esac
    for env in $envs; do
        ( use_env "$env"
          CD3P_XLOADER_TOKEN=$(cat "$TOKEN_FILE" 2>/dev/null || echo NOT_SET)
          tmp="$INI.tmp.$BASHPID"  # this process's own: several environments' set-ups render at once
          envsubst "$VARS" <"$CD3P_ROOT/config/ckan/$TEMPLATE.ini.in" >"$tmp" && mv "$tmp" "$INI" )
    done
}

# The roles every environment's databases belong to (once, before the environments' databases).
ensure_roles() {
    psql_super -d postgres <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ckan_default') THEN CREATE ROLE ckan_default LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'datastore_ro') THEN CREATE ROLE datastore_ro LOGIN; END IF;
END \$\$;
ALTER ROLE ckan_default PASSWORD '$CD3P_DB_PASSWORD';
ALTER ROLE datastore_ro PASSWORD '$CD3P_DS_RO_PASSWORD';
SQL
}

ensure_databases() {
    local db
    for db in "$CD3P_CKAN_DB" "$CD3P_DATASTORE_DB"; do
        if [ -z "$(psql_super -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
            say "postgres: creating database $db"
            psql_super -d postgres -c "CREATE DATABASE \"$db\" OWNER ckan_default ENCODING 'UTF8' TEMPLATE template0"
        fi
    done
    # PostGIS lives in the DataStore database (geography joins for indicators), in a schema of its own
    # so that the public schema holds only resource tables.
    psql_super -d "$CD3P_DATASTORE_DB" <<SQL
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS postgis SCHEMA postgis;
GRANT USAGE ON SCHEMA postgis TO PUBLIC;
ALTER DATABASE "$CD3P_DATASTORE_DB" SET search_path = "\$user", public, postgis;
SQL
}

setup() {
    use_env "$1"; load_secrets; render
    [ -n "${ROLES_DONE:-}" ] || ensure_roles
    # plain CKAN cannot load our schemas (cd3p validators): it reads copies with scheming's own.
    if [ "$CD3P_ENV" = plain ]; then
        "$CD3P_VENV/bin/python" "$CD3P_ROOT/benchmarks/gen_catalog.py" plain-schemas "$CD3P_VAR/bench-scale/plain" \
            || die "plain: could not write its schemas into $CD3P_VAR/bench-scale/plain"
    fi
    ensure_databases
    local stamp="$CD3P_VAR/run/.migrated-$CD3P_ENV" want
    # Migrate again only when CKAN or one of our migrations changed.
    want=$({ "$CD3P_VENV/bin/pip" freeze 2>/dev/null; cat "$CD3P_ROOT"/ckanext-cd3p/ckanext/cd3p/migration/cd3p/versions/*.py 2>/dev/null || true; } \
           | sha256sum | cut -c1-16)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "ckan[$CD3P_ENV]: migrating databases"
        "$CKAN" -c "$INI" db upgrade >"$LOG/migrate-$CD3P_ENV.log" 2>&1 \
            || { tail -n 30 "$LOG/migrate-$CD3P_ENV.log" >&2; die "ckan: db upgrade failed (log: $LOG/migrate-$CD3P_ENV.log)"; }
        "$CKAN" -c "$INI" datastore set-permissions 2>>"$LOG/migrate-$CD3P_ENV.log" | psql_super -d "$CD3P_DATASTORE_DB" >/dev/null \
            || die "ckan: datastore set-permissions failed (log: $LOG/migrate-$CD3P_ENV.log)"
        echo "$want" >"$stamp"
    fi
    case "$CD3P_ENV" in development|bench|scale) ensure_admin ;; esac
}

# The sysadmin a person logs in with, and the API token the xloader worker uses ($TOKEN_FILE).
ensure_admin() {
    if [ -z "$(psql_super -d "$CD3P_CKAN_DB" -tAc "SELECT 1 FROM \"user\" WHERE name = 'admin' AND sysadmin AND state = 'active'")" ]; then
        "$CKAN" -c "$INI" user add admin email=admin@cd3p.localhost password="$CD3P_ADMIN_PASSWORD" \
            fullname="CD3P administrator" >>"$LOG/setup-$CD3P_ENV.log" 2>&1 || die "ckan: could not create the admin user (log: $LOG/setup-$CD3P_ENV.log)"
        "$CKAN" -c "$INI" sysadmin add admin >>"$LOG/setup-$CD3P_ENV.log" 2>&1
        rm -f "$TOKEN_FILE"
    fi
    if [ ! -s "$TOKEN_FILE" ]; then
        "$CKAN" -c "$INI" user token add admin xloader 2>>"$LOG/setup-$CD3P_ENV.log" | tail -n1 | tr -d '[:space:]' >"$TOKEN_FILE"
        [ -s "$TOKEN_FILE" ] || die "ckan: could not create the xloader API token (log: $LOG/setup-$CD3P_ENV.log)"
        load_secrets; render
    fi
}

start() {
    use_env "$1"; load_secrets
    local wpid="$RUN/worker-$CD3P_ENV.pid" hpid="$RUN/web-$CD3P_ENV.pid"
    if pid_alive "$wpid"; then
        say "worker[$CD3P_ENV]: already running"
    else
        # Kept running: RQ's worker exits when Redis goes away, and is started again (every 2 s) until
        # Redis is back, as docker/'s restart policy does for the worker container.
        nohup bash -c "$(declare -f keep_running); keep_running \"\$@\"" worker \
            "$CKAN" -c "$INI" cd3p worker default >>"$LOG/worker-$CD3P_ENV.log" 2>&1 &
        echo $! >"$wpid"
        say "worker[$CD3P_ENV]: started (log: $LOG/worker-$CD3P_ENV.log)"
    fi
    # The scheduler queues the periodic jobs (the daily freshness job) on the worker. Only the
    # development portal runs one: in the test environments a job queued at any moment would run
    # into the tests (they run its tick themselves: tests/feeds/test_scheduler.py). CD3P_SCHEDULER=1
    # starts one for any environment (the failure tests' own set of services: tests/resilience/).
    local spid="$RUN/scheduler-$CD3P_ENV.pid"
    if [ "$CD3P_ENV" = development ] || [ "${CD3P_SCHEDULER:-0}" = 1 ]; then
        if pid_alive "$spid"; then
            say "scheduler[$CD3P_ENV]: already running"
        else
            nohup "$CKAN" -c "$INI" cd3p scheduler >>"$LOG/scheduler-$CD3P_ENV.log" 2>&1 &
            echo $! >"$spid"
            say "scheduler[$CD3P_ENV]: started (log: $LOG/scheduler-$CD3P_ENV.log)"
        fi
    fi
    if pid_alive "$hpid"; then
        say "web[$CD3P_ENV]: already running on http://127.0.0.1:$CD3P_WEB_PORT"
    else
        port_in_use "$CD3P_WEB_PORT" && die "web[$CD3P_ENV]: port $CD3P_WEB_PORT is already in use by another process (see: ss -ltnp 'sport = :$CD3P_WEB_PORT')"
        # uWSGI as docker/ serves CKAN (config/uwsgi/cd3p.ini): CD3P_WEB_PROCESSES processes (2).
        CKAN_INI="$INI" CD3P_WEB_PROCESSES="$CD3P_WEB_PROCESSES" CD3P_WEB_HARAKIRI="$CD3P_WEB_HARAKIRI" \
            nohup "$CD3P_VENV/bin/uwsgi" --ini "$CD3P_ROOT/config/uwsgi/cd3p.ini" \
            >>"$LOG/web-$CD3P_ENV.log" 2>&1 &
        echo $! >"$hpid"
    fi
    local url="http://127.0.0.1:$CD3P_WEB_PORT/api/3/action/status_show"
    for _ in $(seq 1 120); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then say "web[$CD3P_ENV]: serving on http://127.0.0.1:$CD3P_WEB_PORT"; return 0; fi
        pid_alive "$hpid" || break
        sleep 0.5
    done
    tail -n 30 "$LOG/web-$CD3P_ENV.log" >&2
    die "web[$CD3P_ENV]: did not become healthy (log: $LOG/web-$CD3P_ENV.log)"
}

stop_pid() {
    local name=$1 pidf=$2 pid
    if pid_alive "$pidf"; then
        pid=$(head -n1 "$pidf")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        say "$name: stopped"
    fi
    rm -f "$pidf"
}

# The parallel test environments that have a process this script started.
test_workers_started() {
    ls "$RUN" 2>/dev/null | sed -n 's/^\(web\|worker\)-\(test-gw[0-9]*\)\.pid$/\2/p' | sort -u | tr '\n' ' '
}

stop() {
    local env
    for env in ${1:-development test bench $(test_workers_started)}; do
        use_env "$env"
        stop_pid "web[$CD3P_ENV]" "$RUN/web-$CD3P_ENV.pid"
        stop_pid "worker[$CD3P_ENV]" "$RUN/worker-$CD3P_ENV.pid"
        stop_pid "scheduler[$CD3P_ENV]" "$RUN/scheduler-$CD3P_ENV.pid"
    done
}

status() {
    local env rc=0 envs="development test"
    # The bench environment runs only during make bench: listed when it has been started.
    if [ -f "$RUN/web-bench.pid" ] || [ -f "$RUN/worker-bench.pid" ]; then envs="$envs bench"; fi
    envs="$envs $(test_workers_started)"
    for env in ${1:-$envs}; do
        use_env "$env"
        if pid_alive "$RUN/worker-$CD3P_ENV.pid"; then say "worker[$CD3P_ENV]: running"; else say "worker[$CD3P_ENV]: down"; rc=1; fi
        if [ "$CD3P_ENV" = development ]; then
            if pid_alive "$RUN/scheduler-$CD3P_ENV.pid"; then say "scheduler[$CD3P_ENV]: running"; else say "scheduler[$CD3P_ENV]: down"; rc=1; fi
        fi
        if curl -fsS -o /dev/null "http://127.0.0.1:$CD3P_WEB_PORT/api/3/action/status_show" 2>/dev/null; then
            say "web[$CD3P_ENV]: serving on http://127.0.0.1:$CD3P_WEB_PORT"
        else
            say "web[$CD3P_ENV]: down (log: $LOG/web-$CD3P_ENV.log)"; rc=1
        fi
    done
    return $rc
}

restart_one() { stop "$1"; start "$1"; }

# STEP for each environment at the same time, each in a process of its own; fails when one fails.
each() {
    local step=$1 env pids=() envs=() i rc=0
    shift
    for env in "$@"; do
        ( "$step" "$env" ) >"$LOG/$step-$env.out" 2>&1 &
        pids+=($!); envs+=("$env")
    done
    for i in "${!pids[@]}"; do
        if wait "${pids[$i]}"; then
            sed "s/^/[${envs[$i]}] /" "$LOG/$step-${envs[$i]}.out"
        else
            sed "s/^/[${envs[$i]}] /" "$LOG/$step-${envs[$i]}.out" >&2; rc=1
        fi
    done
    [ $rc -eq 0 ] || die "$step failed for an environment (above)"
}

welcome() {
    use_env development; load_secrets
    cat <<MSG

CD3P is serving on http://127.0.0.1:$CD3P_WEB_PORT
  log in:    http://127.0.0.1:$CD3P_WEB_PORT/user/login  as  admin / $CD3P_ADMIN_PASSWORD
  API token: $ETC/xloader-token (sysadmin; send it as the Authorization header)
  logs:      $LOG/
  stop:      make stop
MSG
}

case "${1:-}" in
    welcome) welcome ;;
    setup) shift; [ $# -gt 0 ] || die "setup: which environment?"
           if [ $# -eq 1 ]; then setup "$1"
           else use_env "$1"; load_secrets; ensure_roles; ROLES_DONE=1 each setup "$@"; fi ;;
    start) start "${2:?environment}" ;;
    # The web server and worker load the code once; restarting picks up changes (about 3 s).
    restart) shift; [ $# -gt 0 ] || die "restart: which environment?"
             if [ $# -eq 1 ]; then stop "$1"; start "$1"; else each restart_one "$@"; fi ;;
    stop) stop "${2:-}" ;;
    status) status "${2:-}" ;;
    render) use_env "${2:-development}"; load_secrets; render ;;
    *) echo "usage: $0 setup|start ENV | stop|status [ENV] | render" >&2; exit 2 ;;
esac
