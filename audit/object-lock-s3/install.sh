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

exec bash "$(dirname "$0")/../../scripts/apt-install.sh" "${need[@]}"
