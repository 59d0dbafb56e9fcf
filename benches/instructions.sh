#!/usr/bin/env bash
# Instructions per child for every contender of benches/instructions.rs,
# counted with callgrind: (contender - baseline) / (R × N).
#
#   bash benches/instructions.sh                 # every contender, default sizes
#   bash benches/instructions.sh gather_stream   # the contenders named
#
# Needs valgrind. Counts do not depend on the machine's load.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p aiokit-benches --no-run --bench instructions >/dev/null 2>&1
bin=$(cargo bench -p aiokit-benches --no-run --bench instructions --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*instructions[^"]*"' | tail -1 | cut -d'"' -f4)

count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 \
    | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*'
}

# Sizes per family, and repetitions so that every count covers about
# 20,000 to 40,000 children.
sizes() {
  case "$1" in
    race_*|fc_race_*) echo "10 100 1000 10000" ;;
    # Above 30 children futures' try_join_all yields in input order and
    # waits for the pending children before the failed one: it never ends.
    try_join_all) echo "10" ;;
    gather|join_all|*sparse|*try*) echo "10 100 1000 10000" ;;
    task_group|futures_unordered) echo "100 1000 10000" ;;
    *) echo "100 1000 10000" ;;
  esac
}

wanted=("$@")
"$bin" list | while read -r name base; do
  [ -z "$base" ] && continue
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $name "* ]]; then
    continue
  fi
  for n in $(sizes "$name"); do
    r=$(( (30000 + n - 1) / n ))
    c=$(count "$name" "$n" "$r")
    b=$(count "$base" "$n" "$r")
    echo "$name N=$n: $(( (c - b) / (n * r) )) instructions per child"
  done
done
