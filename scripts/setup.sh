#!/usr/bin/env bash
# Brings a fresh checkout to a runnable state; safe to run again (it does nothing when
# everything is already in place).
#   scripts/setup.sh              the pinned Node, npm dependencies, the `charter` command, and
#                                 the local S3 Object Lock server the demo's audit trail goes to
#                                 when it can be installed (root and apt); otherwise one line says
#                                 so and the demo uses the local directory sink
#   scripts/setup.sh --for-tests  the same, the Object Lock server required (tests fail without
#                                 it), and the Debian packages of Chromium (browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

stamp=node_modules/.charter-lock-digest
want="$(node --version) $(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # A worktree that links node_modules to a shared install must not reinstall: npm ci would
  # empty the shared tree through the link for every other checkout using it.
  if [ -L node_modules ]; then
    echo "setup: node_modules is a link to a shared install whose lock stamp does not match; install in the checkout it links to" >&2
    exit 2
  fi
  echo "setup: installing npm dependencies (npm ci, Node $(node --version))" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

bash scripts/link-charter.sh

if [ "${1:-}" = "--for-tests" ]; then
  bash audit/object-lock-s3/install.sh
  bash scripts/install-chromium.sh
elif ! bash audit/object-lock-s3/install.sh 2>/tmp/charter-setup-ols3.$$; then
  echo "setup: the local S3 Object Lock server cannot be installed here ($(tail -1 /tmp/charter-setup-ols3.$$)); the demo will use the local directory sink" >&2
fi
rm -f /tmp/charter-setup-ols3.$$
