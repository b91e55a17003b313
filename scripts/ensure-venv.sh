#!/usr/bin/env bash
# Creates a Python venv from a pinned requirements file, once: re-installs only when the file
# changes. Prints the venv's bin directory. Safe to call concurrently (flock).
#   scripts/ensure-venv.sh          -> .venv       from requirements-dev.txt  (cfn-lint, checkov)
#   scripts/ensure-venv.sh moto     -> .venv-moto  from requirements-moto.txt (moto server)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-dev}" in
  dev) venv="$root/.venv"; req="$root/requirements-dev.txt" ;;
  moto) venv="$root/.venv-moto"; req="$root/requirements-moto.txt" ;;
  *) echo "ensure-venv: unknown venv '$1'; use 'dev' or 'moto'" >&2; exit 2 ;;
esac
stamp="$venv/.requirements.sha256"
mkdir -p "$root/.cache"
exec 9>"$root/.cache/$(basename "$venv").lock"
flock 9
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "ensure-venv: installing $(basename "$req") into $(basename "$venv") (first run takes ~1 min)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
