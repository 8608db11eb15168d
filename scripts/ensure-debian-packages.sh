#!/usr/bin/env bash
# Install the Debian packages the project needs when a command they provide is missing:
#   ensure-debian-packages.sh COMMAND PACKAGE [PACKAGE...]
# e.g. `npm` from nodejs + npm, `chromium` for the browser tests. Nothing happens when the
# command is already there, so a machine set up by hand is left alone.
set -euo pipefail
command_name=$1
shift
if command -v "$command_name" >/dev/null 2>&1; then
    exit 0
fi
echo "== installing Debian packages for $command_name: $*" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
