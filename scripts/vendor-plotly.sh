#!/usr/bin/env bash
# Refresh src/wanstack/report/html/plotly-basic.min.js, the plotly.js every HTML page carries: plotly's
# partial "basic" bundle (scatter, bar, pie: 1.2 MB against the full bundle's 4.8 MB), at the version
# the installed plotly.py writes figures for (tests/test_html_pages.py checks that they match).
# Run it after constraints.txt moves plotly; it needs npm (the npm registry) and the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
version="$(.venv/bin/python -c 'import plotly.offline; print(plotly.offline.get_plotlyjs_version())')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "plotly.js-basic-dist-min@$version" >/dev/null && tar xzf ./*.tgz)
cp "$work/package/plotly-basic.min.js" src/wanstack/report/html/plotly-basic.min.js
echo "plotly-basic.min.js: plotly.js $version, $(wc -c <src/wanstack/report/html/plotly-basic.min.js) bytes"
