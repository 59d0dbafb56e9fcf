#!/usr/bin/env bash
# Wall clock of aiokit against the anchors of issue 8's targets, in
# alternating rounds (see the docs of benches/instructions.rs): per child,
# net of the workload's own setup, and the median per-round ratio of aiokit
# to each anchor with its 10th and 90th percentiles.
#
#   bash benches/paired.sh            # every comparison, 200 rounds each
#   ROUNDS=50 bash benches/paired.sh  # fewer rounds
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-200}
cargo bench -p aiokit-benches --no-run --bench instructions >/dev/null 2>&1
bin=$(cargo bench -p aiokit-benches --no-run --bench instructions --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*instructions[^"]*"' | tail -1 | cut -d'"' -f4)

pair() {
  local sizes=$1
  shift
  for n in $sizes; do
    "$bin" paired "$n" "$rounds" "$@"
  done
}

pair "100 1000 10000 100000" gather_stream fb_buffered_ordered buffered stream_floor
pair "100 1000 10000 100000" as_completed_stream fb_buffered_unordered buffer_unordered stream_floor
pair "100 1000 10000 100000" task_group futures_unordered
pair "10 100 1000 10000" gather join_all
pair "10" try_gather try_join_all fb_try_join_all
pair "100 1000 10000" try_gather fb_try_join_all
pair "10 100 1000 10000" race_ready fc_race_ready
pair "10 100 1000 10000" race_woken fc_race_woken
pair "10 100 1000 10000" race_churn fc_race_churn
