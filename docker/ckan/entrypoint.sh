#!/bin/bash
# ENTRYPOINT of the CD3P image, for the web container, the worker and one-off commands alike:
# wait for the services, write the per-deployment settings into $CKAN_INI, then run the command
# (by default the official /srv/app/start_ckan.sh, which runs prerun.py, our hooks in
# /docker-entrypoint.d/ and uWSGI).
#
# Configuring here, before start_ckan.sh, matters: prerun.py migrates the database with whatever
# plugins the ini lists, so the ini must already be ours.
#
# CD3P_SKIP_SETUP=1 runs the command straight away, e.g. a shell while the database is down:
#   docker compose run --rm --no-deps -e CD3P_SKIP_SETUP=1 ckan bash
set -euo pipefail

if [ "${CD3P_SKIP_SETUP:-0}" != 1 ]; then
    # shellcheck source=lib.sh
    . "${CD3P_HOME:-/srv/app/cd3p}/lib.sh"
    cd3p_wait
    cd3p_configure
    # Tells the 10_ hook that this has been done.
    export CD3P_CONFIGURED=1
fi

exec "$@"
