#!/usr/bin/env bash
# Fuzz smoke run: builds every cargo-fuzz target in fuzz/, runs each for a bounded time
# (FUZZ_SECONDS, default 20 s; 8 targets, under 3 minutes of fuzzing), prints how many
# inputs each one executed, and fails on any crash, panic, leak or timeout.
#
# Works on stable Rust: `-s none` builds without a sanitizer (the fuzzed crate forbids
# unsafe code). With a nightly toolchain, `FUZZ_SANITIZER=address` adds ASan.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TERM_COLOR=never

seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

echo "==> building the fuzz targets (sanitizer: $sanitizer)"
cargo fuzz build -s "$sanitizer"

status=0
total=0
mkdir -p target
for target in $(cargo fuzz list); do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  if [ -d "seeds/$target" ]; then
    cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  log="target/fuzz-$target.log"
  if cargo fuzz run -s "$sanitizer" "$target" "$corpus" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      >"$log" 2>&1; then
    runs="$(grep -Eo 'Done [0-9]+ runs' "$log" | tail -1 | awk '{print $2}')"
    runs="${runs:-0}"
    total=$((total + runs))
    printf '%-22s %12s executions in %s s\n' "$target" "$runs" "$seconds"
  else
    echo "FAILED: $target (crash input in fuzz/artifacts/$target/); the end of its log:"
    tail -n 40 "$log"
    status=1
  fi
done
printf '%-22s %12s executions\n' "total" "$total"
exit "$status"
