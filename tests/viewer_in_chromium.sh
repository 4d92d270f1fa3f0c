#!/usr/bin/env bash
# Opens essim's HTML viewer in a real headless Chromium: the page must load
# with no console errors and show one lane per node, and exactly the given
# operation markers (by their label, none when none is given); a screenshot
# goes to the test's output folder. Skips (exit 77) when Chromium is not
# installed; scripts/test installs it.
#   viewer_in_chromium.sh ESSIM SCENARIO SEED OUT_DIR EXPECTED_LANES [OPERATION_LABEL...]
set -euo pipefail
essim=$1 scenario=$2 seed=$3 out=$4 lanes=$5
shift 5
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "chromium is not installed: skipping (scripts/test installs it)"
  exit 77
fi
mkdir -p "$out"
"$essim" replay "$scenario" --seed "$seed" --html "$out/viewer.html" >/dev/null || [ $? -eq 1 ]
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --no-first-run --disable-sync --disable-quic
       --user-data-dir="$profile" --virtual-time-budget=10000)
dom=$(timeout 120 "$chromium" "${flags[@]}" --enable-logging=stderr --v=0 --dump-dom \
      "file://$out/viewer.html" 2>"$out/chromium.log")
timeout 120 "$chromium" "${flags[@]}" --window-size=1400,900 --screenshot="$out/viewer.png" \
  "file://$out/viewer.html" 2>>"$out/chromium.log" >/dev/null
fail() { echo "viewer test: $*"; echo "--- chromium log:"; tail -20 "$out/chromium.log"; exit 1; }
grep -q 'data-ready="1"' <<<"$dom" || fail "the page did not finish loading"
grep -q "data-lanes=\"$lanes\"" <<<"$dom" || fail "expected $lanes lanes: $(grep -o 'data-lanes="[0-9]*"' <<<"$dom")"
grep -q 'data-errors="0"' <<<"$dom" || fail "the page reported errors: $(grep -o 'data-errors="[0-9]*"' <<<"$dom")"
grep -q "data-operations=\"$#\"" <<<"$dom" ||
  fail "expected $# operation markers: $(grep -o 'data-operations="[0-9]*"' <<<"$dom")"
for label in "$@"; do
  # Each is a button beside the diagram: "<time>  <label>".
  grep -qF "  $label</button>" <<<"$dom" || fail "no operation marker '$label'"
done
if grep -E 'CONSOLE.*(Uncaught|Error|error)' "$out/chromium.log"; then fail "console errors"; fi
[ -s "$out/viewer.png" ] || fail "no screenshot"
echo "viewer: $lanes lanes, $# operation markers, no console errors; screenshot $out/viewer.png ($(stat -c %s "$out/viewer.png") bytes)"
