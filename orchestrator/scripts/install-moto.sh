#!/bin/sh
# Builds the pinned moto venv where it will live: install-moto.sh VENV_DIR REQUIREMENT [CONSTRAINTS],
# CONSTRAINTS being the text of fixtures/moto-constraints.txt (moto's own dependencies, pinned).
#
# The one install path for moto: the orchestrator embeds this file as moto's setup step, and
# tests/install-deps.sh runs it. The venv is created in its final folder, never renamed, because a
# venv's entry-point scripts (bin/moto_server, bin/pip) record its path in their #! line. An flock
# on VENV_DIR.lock keeps two installs from racing; `.complete` is written last, so a venv whose
# install was interrupted (Ctrl+C, full disk) is deleted and built again by the next install.
set -eu
venv=$1
requirement=$2
constraints=${3:-}
command -v python3 >/dev/null || { echo 'python3 is missing: apt-get install python3 python3-venv' >&2; exit 127; }
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
if command -v flock >/dev/null; then flock 9; fi
[ -f "$venv/.complete" ] && exit 0
rm -rf "$venv"
python3 -m venv "$venv"
# The constraints go beside the venv (not in it: it is deleted and rebuilt on a failed install).
printf '%s\n' "$constraints" > "$venv.constraints"
"$venv/bin/pip" install --disable-pip-version-check -q -c "$venv.constraints" "$requirement"
"$venv/bin/python" -c 'import moto.server'
touch "$venv/.complete"
