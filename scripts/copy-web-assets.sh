#!/usr/bin/env bash
# Copy the front-end files the app serves from node_modules (installed by `npm ci` from
# package-lock.json) into the app's static folder. The folder is git-ignored: it is rebuilt
# from the lock file, never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
vendor=src/puhui/web/static/vendor
rm -rf "$vendor"
mkdir -p "$vendor/swagger-ui"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/htmx.min.js"
cp node_modules/echarts/dist/echarts.min.js "$vendor/echarts.min.js"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js "$vendor/swagger-ui/swagger-ui-bundle.js"
cp node_modules/swagger-ui-dist/swagger-ui.css "$vendor/swagger-ui/swagger-ui.css"
for licence in htmx.org echarts swagger-ui-dist; do
    cp "node_modules/$licence/LICENSE" "$vendor/LICENSE.$licence" 2>/dev/null || true
done
