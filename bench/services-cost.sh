#!/usr/bin/env bash
# What an idle service costs: starts Aegis with 1, 10 and 50 services of two listeners each
# (TCP and UDP on 127.0.0.1, one backend each, nothing connects) and prints the resident memory
# and the kernel threads (platform threads: virtual threads do not show) of each.
#   bench/services-cost.sh [COUNTS...]     default: 1 10 50
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("${@:-1 10 50}")
[ $# -gt 0 ] || counts=(1 10 50)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-9s %10s %9s %14s\n' services rss_kib threads kib_per_extra
base_rss=""
base_n=""
for n in "${counts[@]}"; do
  cfg="$work/services-$n.yaml"
  {
    echo "services:"
    for i in $(seq 1 "$n"); do
      echo "  - name: s$i"
      echo "    listen: { tcp: \"127.0.0.1:0\", udp: \"127.0.0.1:0\" }"
      echo "    backends: [ { address: \"127.0.0.1:$((40000 + i))\" } ]"
    done
    echo "admin: { api_address: \"127.0.0.1:0\", metrics_address: \"127.0.0.1:0\" }"
    echo "logging: { level: warn }"
  } > "$cfg"
  bin/aegis start -c "$cfg" -d --pid-file "$work/aegis-$n.pid" > "$work/start-$n.log" 2>&1
  pid=$(cat "$work/aegis-$n.pid")
  # let start-up garbage settle, as an idle daemon would
  for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 1; done
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  threads=$(ls "/proc/$pid/task" | wc -l)
  per=""
  if [ -n "$base_rss" ]; then
    per=$(( (rss - base_rss) / (n - base_n) ))
  else
    base_rss=$rss
    base_n=$n
  fi
  printf '%-9s %10s %9s %14s\n' "$n" "$rss" "$threads" "$per"
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
done
