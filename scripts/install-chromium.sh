#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (playwright-core drives /usr/bin/chromium;
# Playwright's own browser download cannot work offline). Does nothing when it is there.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-chromium.sh: need root (or sudo) to install chromium" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-chromium.sh: installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends chromium
