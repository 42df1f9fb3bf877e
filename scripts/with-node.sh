#!/usr/bin/env bash
# Runs a command under the pinned Node: scripts/with-node.sh npm run build
set -euo pipefail
source "$(dirname "$0")/node-env.sh"
exec "$@"
