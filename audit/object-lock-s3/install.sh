#!/usr/bin/env bash
# Installs the Debian packages the local S3 Object Lock server needs (Ceph radosgw with one
# mon and one osd, see start.sh). Idempotent: does nothing when every command is present.
set -euo pipefail

need=()
command -v radosgw >/dev/null 2>&1 && command -v radosgw-admin >/dev/null 2>&1 || need+=(radosgw)
command -v ceph-mon >/dev/null 2>&1 && command -v monmaptool >/dev/null 2>&1 && command -v ceph >/dev/null 2>&1 || need+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ ${#need[@]} -eq 0 ] && exit 0

command -v apt-get >/dev/null 2>&1 || { echo "install.sh: not a Debian system (no apt-get): cannot install ${need[*]}" >&2; exit 1; }
sudo=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install.sh: need root (or sudo) to install: ${need[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${need[@]}"
