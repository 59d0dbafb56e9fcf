#!/usr/bin/env bash
# aiokit's public API, listed from rustdoc's JSON (nightly) by
# .ci/public_api.py, compared with the checked-in public-api.txt, so that
# every change to the API shows in review.
#   bash .ci/public-api.sh           # compare; fails on a difference
#   bash .ci/public-api.sh --bless   # rewrite public-api.txt
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
# One dated nightly: rustdoc's JSON (paths such as `std::io::Error` vs
# `core::io::Error`, derived impls' bounds) changes between nightlies, and the
# listing must change only when the API does. Move the date and --bless
# together.
NIGHTLY=nightly-2026-10-30
rustup toolchain install "$NIGHTLY" --profile minimal >/dev/null
# All features: the listing covers every item. Hidden items too: the sealed
# helper traits are public API.
RUSTFLAGS="" RUSTDOCFLAGS="" cargo "+$NIGHTLY" rustdoc --quiet --lib --all-features -- \
  -Z unstable-options --output-format json --document-hidden-items
python3 .ci/public_api.py "$target/doc/aiokit.json" > "$target/public-api.txt"
if [ "${1:-}" = "--bless" ]; then
  cp "$target/public-api.txt" public-api.txt
  echo "public-api.txt rewritten ($(wc -l < public-api.txt) lines)"
elif ! diff -u public-api.txt "$target/public-api.txt"; then
  echo "The public API differs from public-api.txt (above: - listed, + now)." >&2
  echo "If the change is meant, run: bash .ci/public-api.sh --bless" >&2
  exit 1
else
  echo "public API unchanged ($(wc -l < public-api.txt) lines)"
fi
