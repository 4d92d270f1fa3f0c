#!/usr/bin/env bash
# Opens report.html of a real sweep in headless Chromium: the page must
# render every scenario with its charts, with no console errors; a
# screenshot goes to the test's output folder. Skips (exit 77) when Chromium
# is not installed; scripts/test installs it.
#   report_page_in_chromium.sh ESSIM OUT_DIR SCENARIO...
set -euo pipefail
essim=$1 out=$2
shift 2
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "chromium is not installed: skipping (scripts/test installs it)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
"$essim" run "$@" --seeds 6 --quiet --report-dir "$out/reports" >/dev/null || [ $? -eq 1 ]
page="$out/reports/report.html"
[ -s "$page" ] || { echo "no report.html"; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --no-first-run --disable-sync --disable-quic
       --user-data-dir="$profile")
dom=$(timeout 120 "$chromium" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom \
      "file://$page" 2>"$out/chromium.log")
timeout 120 "$chromium" "${flags[@]}" --window-size=1280,1600 --screenshot="$out/report.png" \
  "file://$page" 2>>"$out/chromium.log" >/dev/null
fail() { echo "report page test: $*"; echo "--- chromium log:"; tail -20 "$out/chromium.log"; exit 1; }
want=$#
grep -q "data-scenarios=\"$want\"" <<<"$dom" || fail "expected $want scenarios"
[ "$(grep -o '<section id="s' <<<"$dom" | wc -l)" -eq "$want" ] || fail "not one section per scenario"
[ "$(grep -o '<svg' <<<"$dom" | wc -l)" -ge "$want" ] || fail "charts missing"
grep -q 'Coverage probes:' <<<"$dom" || fail "no probe coverage"
if grep -E 'CONSOLE.*(Uncaught|Error|error)' "$out/chromium.log"; then fail "console errors"; fi
[ -s "$out/report.png" ] || fail "no screenshot"
echo "report.html: $want scenarios, $(stat -c %s "$page") bytes; screenshot $out/report.png ($(stat -c %s "$out/report.png") bytes)"
