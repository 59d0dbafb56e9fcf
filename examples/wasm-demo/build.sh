#!/usr/bin/env bash
# Builds the demo into pkg/ (release, wasm-bindgen --target web) and prints
# the .wasm size (and its size after wasm-opt, if installed). Needs the wasm32-unknown-unknown
# target and a wasm-bindgen-cli of the version in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-unknown-unknown
target="${CARGO_TARGET_DIR:-target}"
wasm-bindgen --target web --no-typescript --out-dir pkg \
  "$target/wasm32-unknown-unknown/release/aiokit_wasm_demo.wasm"
echo "pkg/aiokit_wasm_demo_bg.wasm: $(wc -c < pkg/aiokit_wasm_demo_bg.wasm) bytes"
# The size after wasm-opt, for the record only: Debian's binaryen (108)
# predates the reference types that rustc's wasm output uses and breaks the
# module, so the page serves wasm-bindgen's output as it is.
if command -v wasm-opt >/dev/null; then
  wasm-opt -Os --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-multivalue --enable-mutable-globals \
    pkg/aiokit_wasm_demo_bg.wasm -o target-size-opt.wasm
  echo "after wasm-opt -Os (not served): $(wc -c < target-size-opt.wasm) bytes"
  rm target-size-opt.wasm
fi
