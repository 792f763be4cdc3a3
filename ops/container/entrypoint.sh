#!/bin/sh
# Container entrypoint for Sluice: `exec` replaces this shell with Node, so Sluice is the process
# that `docker stop` / Kubernetes signal (PID 1 of the container) and gets SIGTERM itself: the
# batch in flight commits, then it exits 0. Give the container more time than
# monitoring.shutdownTimeoutSeconds (stop_grace_period, terminationGracePeriodSeconds).
#
#   ENTRYPOINT ["/app/ops/container/entrypoint.sh"]
#   CMD ["run", "/etc/sluice/pipeline.json", "--http-port", "9464", "--http-host", "0.0.0.0"]
#
# Arguments are the sluice command line. SLUICE_HOME is the project folder (default: two levels
# above this script); the project's own Node (node_modules/.bin/node) is used when present.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
home=${SLUICE_HOME:-$(dirname -- "$(dirname -- "$here")")}
node=node
if [ -x "$home/node_modules/.bin/node" ]; then node="$home/node_modules/.bin/node"; fi
# Files Sluice creates are owner-only anyway; anything else it writes should be too.
umask 077
exec "$node" "$home/bin/sluice.js" "$@"
