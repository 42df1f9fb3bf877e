#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser tests (Playwright drives /usr/bin/chromium
# through playwright-core; no browser is downloaded). Idempotent: nothing to do when present.
set -euo pipefail
[ -x /usr/bin/chromium ] || exec bash "$(dirname "$0")/apt-install.sh" chromium
