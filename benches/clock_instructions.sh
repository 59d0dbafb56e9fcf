#!/usr/bin/env bash
# Instructions per timeout that does not fire, under a tokio current-thread
# runtime: aiokit (tokio's timer through the clock seam), tokio::time::timeout,
# and a lazy timeout on async-io's Timer (aiokit's timers before the seam).
# Counted by callgrind: the run of N timeouts minus the run of none.
#   bash benches/clock_instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
bin=$(cargo bench -p aiokit-benches --bench clock --features tokio --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*clock-[^"]*"' | head -1 | cut -d'"' -f4)
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" count "$1" "$2" 2>&1 \
    | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
}
for who in aiokit tokio async-io; do
  base=$(count "$who" 0)
  full=$(count "$who" "$N")
  echo "$who: $(( (full - base) / N )) instructions per timeout"
done
