#!/usr/bin/env bash
# Installs Debian packages with apt-get (as root, or through sudo). Used by the installers of
# what setup needs: the local S3 Object Lock server, Chromium for the console's browser tests.
#   scripts/apt-install.sh PACKAGE...
set -euo pipefail

command -v apt-get >/dev/null 2>&1 || { echo "apt-install.sh: not a Debian system (no apt-get): cannot install $*" >&2; exit 1; }
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "apt-install.sh: need root (or sudo) to install: $*" >&2; exit 1; }
  sudo=(sudo)
fi
echo "apt-install.sh: installing $*" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "$@"
