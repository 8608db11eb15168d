#!/usr/bin/env bash
# Install the Chinese font that contract PDFs embed (Debian's fonts-wqy-microhei, Apache-2.0),
# unless a usable one is already there. Called by `make demo` and `make test`.
set -euo pipefail
for font in \
    /usr/share/fonts/truetype/wqy/wqy-microhei.ttc \
    /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf \
    /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc; do
    [ -f "$font" ] && exit 0
done
if [ -n "${PUHUI_CONTRACT_FONT:-}" ] && [ -f "$PUHUI_CONTRACT_FONT" ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "contract PDFs need a Chinese font: install the Debian package fonts-wqy-microhei" \
            "as root, or set PUHUI_CONTRACT_FONT to a TrueType font" >&2
        exit 1
    fi
    sudo="sudo"
fi
echo "installing the Chinese font of contract PDFs (Debian package fonts-wqy-microhei)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    fonts-wqy-microhei >/dev/null
