#!/usr/bin/env bash
# Builds the demo into pkg/ (release, wasm-bindgen --target web, wasm-opt if
# installed) and prints the .wasm size. Needs the wasm32-unknown-unknown
# target and a wasm-bindgen-cli of the version in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --target wasm32-unknown-unknown
target="${CARGO_TARGET_DIR:-target}"
wasm-bindgen --target web --no-typescript --out-dir pkg \
  "$target/wasm32-unknown-unknown/release/aiokit_wasm_demo.wasm"
if command -v wasm-opt >/dev/null; then
  wasm-opt -Os --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    pkg/aiokit_wasm_demo_bg.wasm -o pkg/aiokit_wasm_demo_bg.wasm
fi
echo "pkg/aiokit_wasm_demo_bg.wasm: $(wc -c < pkg/aiokit_wasm_demo_bg.wasm) bytes"
