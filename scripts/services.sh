#!/usr/bin/env bash
# Start, stop and check the services CD3P runs on: PostgreSQL 15 + PostGIS 3, Redis and Solr 9,
# all bound to 127.0.0.1, all data under $CD3P_VAR (git-ignored).
#
#   scripts/services.sh up       install missing Debian packages, start everything, wait until healthy
#   scripts/services.sh down     stop what this script started (and nothing else)
#   scripts/services.sh status   exit 0 when every service answers
#   scripts/services.sh start|stop|restart postgres|redis|solr
#                                one service (the failure tests stop and restart each under the
#                                portal: tests/resilience/)
#
# Idempotent: running `up` twice leaves one of each service running. Each service gets its own
# data directory, pid file and log under $CD3P_VAR, so stopping never touches a system instance.
set -euo pipefail

CD3P_ROOT=${CD3P_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CD3P_VAR=${CD3P_VAR:-$CD3P_ROOT/var}
CD3P_PG_PORT=${CD3P_PG_PORT:-5432}
CD3P_REDIS_PORT=${CD3P_REDIS_PORT:-6379}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export CD3P_ROOT CD3P_VAR

PGDATA="$CD3P_VAR/postgres/data"
PGSOCK="$CD3P_VAR/postgres/run"
LOG="$CD3P_VAR/log"
RUN="$CD3P_VAR/run"

say() { printf '%s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# --- Debian packages ------------------------------------------------------------------------------
ensure_packages() {
    local missing=()
    [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
    [ -f /usr/share/postgresql/15/extension/postgis.control ] || missing+=(postgresql-15-postgis-3)
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
    command -v mvn >/dev/null || missing+=(maven)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    command -v pg_config >/dev/null || missing+=(libpq-dev)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "services: installing Debian packages: ${missing[*]}"
    [ "$(id -u)" -eq 0 ] || die "services: need root to install ${missing[*]} (run: sudo apt-get install ${missing[*]})"
    local aptlog="$LOG/apt.log"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
        >"$aptlog" 2>&1 || { tail -n 20 "$aptlog" >&2; die "services: apt-get install failed (log: $aptlog)"; }
}

# --- PostgreSQL -----------------------------------------------------------------------------------
as_postgres() { runuser -u postgres -- "$@"; }

pg_up() {
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
        say "postgres: initialising a cluster in $PGDATA"
        mkdir -p "$PGDATA" "$PGSOCK"
        # The server runs as the postgres user, which must be able to reach its data directory.
        as_postgres test -x "$CD3P_VAR" \
            || die "postgres: the postgres user cannot reach $CD3P_VAR (a parent folder is private); set CD3P_VAR to a path every user can traverse"
        chown -R postgres:postgres "$CD3P_VAR/postgres"
        chmod 700 "$PGDATA"
        as_postgres "$PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=trust --auth-host=scram-sha-256 >"$LOG/postgres-initdb.log" 2>&1 \
            || die "postgres: initdb failed (log: $LOG/postgres-initdb.log)"
    fi
    if as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        say "postgres: already running on 127.0.0.1:$CD3P_PG_PORT"
        return 0
    fi
    port_in_use "$CD3P_PG_PORT" && die "postgres: port $CD3P_PG_PORT is already in use by another process (see: ss -ltnp 'sport = :$CD3P_PG_PORT'; or set CD3P_PG_PORT)"
    touch "$LOG/postgres.log" && chown postgres "$LOG/postgres.log"
    as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 start \
        -o "-p $CD3P_PG_PORT -c listen_addresses=127.0.0.1 -k $PGSOCK -c max_connections=200 -c fsync=off -c synchronous_commit=off" \
        >/dev/null || { tail -n 20 "$LOG/postgres.log" >&2; die "postgres: did not start (log: $LOG/postgres.log)"; }
    say "postgres: started on 127.0.0.1:$CD3P_PG_PORT"
}

pg_down() {
    if [ -s "$PGDATA/PG_VERSION" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null && say "postgres: stopped"
    else
        say "postgres: not running"
    fi
}

pg_ok() { as_postgres "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$CD3P_PG_PORT"; }

# --- Redis ----------------------------------------------------------------------------------------
redis_up() {
    local pidf="$RUN/redis.pid"
    if pid_alive "$pidf"; then say "redis: already running on 127.0.0.1:$CD3P_REDIS_PORT"; return 0; fi
    port_in_use "$CD3P_REDIS_PORT" && die "redis: port $CD3P_REDIS_PORT is already in use by another process (see: ss -ltnp 'sport = :$CD3P_REDIS_PORT'; or set CD3P_REDIS_PORT)"
    mkdir -p "$CD3P_VAR/redis"
    redis-server --bind 127.0.0.1 --port "$CD3P_REDIS_PORT" --daemonize yes --pidfile "$pidf" \
        --dir "$CD3P_VAR/redis" --logfile "$LOG/redis.log" --save "" --appendonly no
    for _ in $(seq 1 50); do redis_ok && { say "redis: started on 127.0.0.1:$CD3P_REDIS_PORT"; return 0; }; sleep 0.2; done
    tail -n 20 "$LOG/redis.log" >&2
    die "redis: did not become healthy (log: $LOG/redis.log)"
}

redis_down() {
    local pidf="$RUN/redis.pid"
    if pid_alive "$pidf"; then
        kill "$(head -n1 "$pidf")"
        for _ in $(seq 1 50); do pid_alive "$pidf" || break; sleep 0.1; done
        rm -f "$pidf"; say "redis: stopped"
    else
        say "redis: not running"
    fi
}

redis_ok() { [ "$(redis-cli -h 127.0.0.1 -p "$CD3P_REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# --- main -----------------------------------------------------------------------------------------
mkdir -p "$LOG" "$RUN"
case "${1:-}" in
    packages)
        ensure_packages
        ;;
    up)
        ensure_packages
        pg_up
        redis_up
        "$CD3P_ROOT/scripts/solr.sh" start
        ;;
    down)
        "$CD3P_ROOT/scripts/solr.sh" stop || true
        redis_down
        pg_down
        ;;
    status)
        rc=0
        if pg_ok; then say "postgres: running on 127.0.0.1:$CD3P_PG_PORT"; else say "postgres: down (log: $LOG/postgres.log)"; rc=1; fi
        if redis_ok; then say "redis: running on 127.0.0.1:$CD3P_REDIS_PORT"; else say "redis: down (log: $LOG/redis.log)"; rc=1; fi
        "$CD3P_ROOT/scripts/solr.sh" status || rc=1
        exit $rc
        ;;
    start|stop|restart)
        cmd=$1; service=${2:-}
        case "$service" in
            postgres) up=pg_up; down=pg_down ;;
            redis) up=redis_up; down=redis_down ;;
            solr) up='"$CD3P_ROOT/scripts/solr.sh" start'; down='"$CD3P_ROOT/scripts/solr.sh" stop' ;;
            *) echo "usage: $0 $cmd postgres|redis|solr" >&2; exit 2 ;;
        esac
        case "$cmd" in
            start) eval "$up" ;;
            stop) eval "$down" ;;
            restart) eval "$down"; eval "$up" ;;
        esac
        ;;
    psql)
        shift; exec psql -h "$PGSOCK" -p "$CD3P_PG_PORT" -U postgres "$@"
        ;;
    *)
        echo "usage: $0 up|down|status|packages|psql [args]|start|stop|restart SERVICE" >&2; exit 2
        ;;
esac
