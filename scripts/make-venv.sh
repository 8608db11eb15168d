#!/usr/bin/env bash
# Create the project's virtual environment. On Debian, `python3 -m venv` needs the
# python3-venv package; install it when missing and we are allowed to.
set -euo pipefail
python=${1:-python3}
venv=${2:-.venv}
if "$python" -m venv "$venv" 2>/dev/null; then
    exit 0
fi
rm -rf "$venv"
echo "python -m venv failed; installing Debian's venv support" >&2
version=$("$python" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
$sudo apt-get install -y -qq "python${version}-venv" || $sudo apt-get install -y -qq python3-venv
"$python" -m venv "$venv"
