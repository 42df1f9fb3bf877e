#!/usr/bin/env bash
# Brings a fresh checkout to a runnable state; safe to run again (it does nothing when
# everything is already in place).
#   scripts/setup.sh              npm dependencies
#   scripts/setup.sh --for-tests  also the Debian packages for the local S3 Object Lock server
set -euo pipefail
cd "$(dirname "$0")/.."

stamp=node_modules/.charter-lock-digest
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies" >&2
  # Not `npm ci`: promptfoo's optional @swc/core names platform builds (ppc64, s390x, win32
  # arm64/ia32, ...) that the registry does not serve at that version, so the lock cannot
  # list them and `npm ci` rejects it as out of sync. `npm install` keeps the locked versions.
  npm install --no-audit --no-fund
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--for-tests" ]; then
  bash audit/object-lock-s3/install.sh
fi
