#!/usr/bin/env bash
# Creates ./.venv from requirements-dev.txt, once: re-installs only when the requirements change.
# Prints the venv's bin directory. Safe to call concurrently (flock).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
req="$root/requirements-dev.txt"
stamp="$venv/.requirements.sha256"
mkdir -p "$root/.cache"
exec 9>"$root/.cache/venv.lock"
flock 9
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "ensure-venv: installing $(grep -cv '^\s*#' "$req") pinned tools into .venv (first run takes ~1-2 min)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
