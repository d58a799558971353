# shellcheck shell=bash
# Sourced by the official /srv/app/start_ckan.sh. Our ENTRYPOINT has normally done this already;
# it is repeated only when the image was started without it, so the ini is never left unset.
# The subshell keeps our shell options out of start_ckan.sh; `exit 1` stops the start.
if [ "${CD3P_CONFIGURED:-0}" != 1 ]; then
    (
        set -euo pipefail
        # shellcheck source=../lib.sh
        . "${CD3P_HOME:-/srv/app/cd3p}/lib.sh"
        cd3p_wait
        cd3p_configure
    ) || { echo "[cd3p] ERROR: configuration failed; not starting CKAN" >&2; exit 1; }
fi
