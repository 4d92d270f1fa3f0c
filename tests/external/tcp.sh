#!/usr/bin/env bash
# external.connect: the Python bank served over TCP (bank.py --listen),
# swept with two threads and checked for determinism (each a connection).
set -euo pipefail
essim=$1 root=$2 work=$3
mkdir -p "$work"
python3 "$root/examples/python-bank/bank.py" --listen 127.0.0.1:0 2>"$work/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$work/server.err" 2>/dev/null && break
  sleep 0.05
done
port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$work/server.err" | head -1)
[[ -n $port ]] || { echo "the server did not start:"; cat "$work/server.err"; exit 1; }
sed -e "s|  command: \[python3, bank.py\]|  connect: 127.0.0.1:$port|" -e '/^  cwd:/d' \
  -e 's/^name: python-bank/name: python-bank-tcp/' \
  "$root/examples/python-bank/scenarios/python-bank.yaml" > "$work/tcp.yaml"
"$essim" run "$work/tcp.yaml" --seeds 4 --jobs 2 --check-determinism --quiet
