#!/usr/bin/env bash
# Puts `charter` on PATH: a link to bin/charter (the built CLI under the pinned Node) in the
# first writable folder of /usr/local/bin and ~/.local/bin that is on PATH. Says where, once.
set -euo pipefail
target="$(cd "$(dirname "$0")/.." && pwd)/bin/charter"
for dir in /usr/local/bin "$HOME/.local/bin"; do
  case ":$PATH:" in *":$dir:"*) ;; *) continue ;; esac
  [ -d "$dir" ] && [ -w "$dir" ] || continue
  if [ "$(readlink "$dir/charter" 2>/dev/null)" != "$target" ]; then
    ln -sf "$target" "$dir/charter"
    echo "setup: linked $dir/charter -> $target" >&2
  fi
  exit 0
done
echo "setup: no writable folder on PATH for the charter command; run $target directly" >&2
