#!/usr/bin/env bash
# Sourced by every project script: puts the pinned Node (.node-version) first on PATH,
# provisioning it from the npm registry when the machine's own Node is another version.
# The official Node binaries are published there as node-linux-<arch> packages, so this needs
# no network access beyond what `npm install` needs anyway.
charter_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
charter_node_version="$(tr -d ' \n' < "$charter_root/.node-version")"

charter_provision_node() {
  local dir="$charter_root/.tools/node-v$charter_node_version"
  if [ ! -x "$dir/bin/node" ]; then
    local arch
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) echo "setup: no official Node build for $(uname -m)" >&2; return 1 ;;
    esac
    echo "setup: provisioning Node $charter_node_version (node-linux-$arch from the npm registry)" >&2
    local tmp
    tmp="$(mktemp -d "$charter_root/.tools.XXXXXX")"
    (cd "$tmp" && npm pack --silent "node-linux-$arch@$charter_node_version" >/dev/null && tar xzf ./*.tgz) || {
      rm -rf "$tmp"
      return 1
    }
    mkdir -p "$charter_root/.tools"
    rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
  fi
  export PATH="$dir/bin:$PATH"
  # Native addons of dependencies build against this Node's headers, not downloaded ones.
  export npm_config_nodedir="$dir"
}

if [ "$(node --version 2>/dev/null)" != "v$charter_node_version" ]; then
  charter_provision_node
fi
