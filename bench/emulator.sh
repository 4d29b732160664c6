#!/usr/bin/env bash
# Benchmark (not a test; CI does not run it): how fast is the emulator's polling path and
# its issuance path, against two references measured in the same run on the same
# workload?
#
#   ceiling        bench/ceiling: axum with handlers that return a fixed answer
#   oidc-provider  bench/oidc-provider: node-oidc-provider with the device flow enabled
#
# Workloads (wrk, 64 connections, form bodies, $DURATION s each):
#   poll-200     device-code grant polls round-robin over 200 pending codes. Each code is
#                polled far more often than its interval, so the emulator mostly answers
#                slow_down (RFC 8628 §3.5): that is the honest answer and it is reported.
#   poll-steady  the same over $STEADY_CODES (40,000) fresh codes, interval 1: the steady
#                authorization_pending path. A code may be polled every 0.5 s (interval
#                minus the grace), so N codes sustain N / 0.5 s pending polls: 40,000
#                cover 80,000 polls/s, above what one core answers here. (With the
#                default cap of 10,000 grants the run was capped at 20,000 pending
#                polls/s; past that every code drifted into slow_down, which grows its
#                interval on each early poll, and the run measured slow_down instead:
#                96% of the answers before this change.) `max_grants` lifts the cap.
#   issue        POST device authorizations, default cap (10,000 grants): the first
#                10,000 succeed, then every answer is 429 (the flood/DoS path).
#   issue-open   the same with the cap lifted: every answer is a 200 (issuance itself).
# Server CPU time per answer comes from /proc/<pid>/stat (utime+stime) before and after
# a run; RSS from /proc/<pid>/status (VmRSS), idle and with 10,000 pending flows.
# With 2 or more cores the server is pinned to CPU 0 and wrk (1 thread) to CPU 1, so
# every server gets exactly one core and wrk never competes with it. A last pair of
# runs repeats the emulator with --quiet (no per-request log line) as a diagnostic.
#
# Needs: wrk, node/npm, python3, taskset (.ci/setup-peers.sh installs wrk).
# Usage: bench/emulator.sh            DURATION=5 bench/emulator.sh   (seconds per run)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
DURATION=${DURATION:-10}
CONNECTIONS=64
CLIENT=client_bench
HZ=$(getconf CLK_TCK)

for tool in wrk node npm python3 taskset cargo; do
  command -v "$tool" >/dev/null || { echo "bench/emulator.sh needs $tool (see .ci/setup-peers.sh)" >&2; exit 1; }
done
if [ "$(nproc)" -ge 2 ]; then server_cpu=0 load_cpu=1; else server_cpu=0 load_cpu=0; fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> building (release)" >&2
cargo build --release --quiet -p workos-cli-auth
CARGO_TARGET_DIR="$root/bench/ceiling/target" cargo build --release --quiet --manifest-path bench/ceiling/Cargo.toml
if [ ! -d bench/oidc-provider/node_modules/oidc-provider ]; then
  (cd bench/oidc-provider && npm ci --no-audit --no-fund --loglevel=error)
fi
emulator_bin=$root/target/release/workos-cli-auth
ceiling_bin=$root/bench/ceiling/target/release/bench-ceiling

STEADY_CODES=${STEADY_CODES:-40000}
# Emulator configs: the demo user, interval 1 s, the per-client flood guard out of the
# way; the default grant cap (10,000), or the cap lifted so poll-steady has enough codes.
cat >"$work/emulator-cap.toml" <<'EOF'
interval = 1
max_authorizations_per_minute = 100000000
EOF
cat >"$work/emulator.toml" <<'EOF'
interval = 1
max_authorizations_per_minute = 100000000
max_grants = 5000000
EOF

# start_server NAME CMD... : runs CMD pinned to the server CPU, waits for the URL it prints.
start_server() {
  local name=$1; shift
  taskset -c "$server_cpu" "$@" >"$work/$name.url" 2>"$work/$name.log" &
  server_pid=$!
  for _ in $(seq 200); do
    [ -s "$work/$name.url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 0.05
  done
  server_url=$(head -1 "$work/$name.url")
  [ -n "$server_url" ] || { echo "$name printed no URL" >&2; cat "$work/$name.log" >&2; exit 1; }
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# bench NAME LABEL SCRIPT [ENV=VALUE...] : one wrk run against $server_url; sets $last_rps
# and stores a result line.
declare -A rps p50 p99 cpu_us shares
bench() {
  local name=$1 label=$2 script=$3; shift 3
  local before after out line
  before=$(cpu_ticks "$server_pid")
  out=$(env "$@" WRK_THREADS=1 taskset -c "$load_cpu" \
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "bench/lib/$script" "$server_url")
  after=$(cpu_ticks "$server_pid")
  line=$(grep '^RESULT ' <<<"$out") || { echo "$out" >&2; exit 1; }
  local requests seconds
  requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
  seconds=$(sed -E 's/.* seconds=([0-9.]+).*/\1/' <<<"$line")
  rps[$name.$label]=$(sed -E 's/.* rps=([0-9]+).*/\1/' <<<"$line")
  p50[$name.$label]=$(sed -E 's/.* p50_us=([0-9]+).*/\1/' <<<"$line")
  p99[$name.$label]=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$line")
  shares[$name.$label]=$(sed -E 's/.* shares=(.*)/\1/' <<<"$line")
  cpu_us[$name.$label]=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$requests" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / (n > 0 ? n : 1) }')
  local util errors
  util=$(awk -v t=$((after - before)) -v hz="$HZ" -v s="$seconds" 'BEGIN { printf "%.0f", 100 * t / hz / s }')
  errors=$(sed -E 's/.* errors=([0-9]+).*/\1/' <<<"$line")
  printf '%-14s %-12s %8s req/s  p50 %6s µs  p99 %6s µs  cpu %6s µs/answer  server cpu %3s%%  socket/timeout errors %s  answers: %s\n' \
    "$name" "$label" "${rps[$name.$label]}" "${p50[$name.$label]}" "${p99[$name.$label]}" \
    "${cpu_us[$name.$label]}" "$util" "$errors" "${shares[$name.$label]}"
  last_rps=${rps[$name.$label]}
}

echo "==> $(nproc) cores; server on CPU $server_cpu, wrk (1 thread, $CONNECTIONS connections) on CPU $load_cpu; ${DURATION}s per run" >&2
printf '%s\n' "server         workload"

# --- the ceiling ---------------------------------------------------------------------
start_server ceiling "$ceiling_bin"
python3 bench/lib/mint_codes.py "$server_url" /user_management/authorize/device "$CLIENT" 200 "$work/ceiling.codes"
bench ceiling poll-200 poll.lua CODES_FILE="$work/ceiling.codes"
bench ceiling issue issue.lua
stop_server

# --- the emulator --------------------------------------------------------------------
# With interval 1 (0.5 s grace) each code may be polled every 0.5 s: poll-steady's
# $STEADY_CODES codes keep every answer authorization_pending up to $STEADY_CODES / 0.5
# polls/s; the answer shares show it if not.
start_server emulator "$emulator_bin" emulator --port 0 --config "$work/emulator.toml"
python3 bench/lib/mint_codes.py "$server_url" /user_management/authorize/device "$CLIENT" 200 "$work/emulator.codes"
sleep 1.2 # the first poll of a code counts from its issue: let the interval pass once
bench emulator poll-200 poll.lua CODES_FILE="$work/emulator.codes"
python3 bench/lib/mint_codes.py "$server_url" /user_management/authorize/device "$CLIENT" "$STEADY_CODES" "$work/steady.codes"
sleep 1.2
bench emulator poll-steady poll.lua CODES_FILE="$work/steady.codes"
emulator_log_bytes=$(wc -c <"$work/emulator.log")
emulator_log_requests=$(wc -l <"$work/emulator.log")
stop_server
# Issuance on a fresh emulator: the first 10,000 succeed, then the cap answers 429.
start_server emulator-issue "$emulator_bin" emulator --port 0 --config "$work/emulator-cap.toml"
bench emulator issue issue.lua
stop_server
# Issuance with the cap lifted: every answer is a new grant.
start_server emulator-issue-open "$emulator_bin" emulator --port 0 --config "$work/emulator.toml"
bench emulator issue-open issue.lua
stop_server
# Diagnostic: the same pending workload with per-request logging off (-q).
start_server emulator-quiet "$emulator_bin" --quiet emulator --port 0 --config "$work/emulator.toml"
python3 bench/lib/mint_codes.py "$server_url" /user_management/authorize/device "$CLIENT" "$STEADY_CODES" "$work/quiet.codes"
sleep 1.2
bench emulator-q poll-steady poll.lua CODES_FILE="$work/quiet.codes"
bench emulator-q issue issue.lua
stop_server

# --- node-oidc-provider --------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_server oidc-provider env PORT="$port" node bench/oidc-provider/server.mjs
python3 bench/lib/mint_codes.py "$server_url" /device/auth "$CLIENT" 200 "$work/oidc.codes"
bench oidc-provider poll-200 poll.lua CODES_FILE="$work/oidc.codes" POLL_PATH=/token
bench oidc-provider issue issue.lua ISSUE_PATH=/device/auth
stop_server

# --- memory ----------------------------------------------------------------------------
start_server emulator-rss "$emulator_bin" emulator --port 0 --config "$work/emulator-cap.toml"
sleep 0.5
rss_idle=$(rss_kib "$server_pid")
python3 bench/lib/mint_codes.py "$server_url" /user_management/authorize/device "$CLIENT" 10000 "$work/rss.codes"
rss_10k=$(rss_kib "$server_pid")
stop_server

# --- summary ---------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "MISSED"; fi; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
s=emulator.poll-steady
cat <<EOF

== summary (per core) ==
emulator poll-steady vs ceiling poll:      $(ratio "${rps[$s]}" "${rps[ceiling.poll-200]}")   (emulator ${rps[$s]} req/s, ceiling ${rps[ceiling.poll-200]} req/s)
emulator poll-200    vs ceiling poll:      $(ratio "${rps[emulator.poll-200]}" "${rps[ceiling.poll-200]}")
emulator issue       vs ceiling issue:     $(ratio "${rps[emulator.issue]}" "${rps[ceiling.issue]}")   (answers: ${shares[emulator.issue]})
emulator issue-open  vs ceiling issue:     $(ratio "${rps[emulator.issue-open]}" "${rps[ceiling.issue]}")   (${rps[emulator.issue-open]} req/s, ${cpu_us[emulator.issue-open]} µs CPU per new grant)
emulator poll-steady vs oidc-provider poll: $(ratio "${rps[$s]}" "${rps[oidc-provider.poll-200]}")
emulator issue-open  vs oidc-provider issue: $(ratio "${rps[emulator.issue-open]}" "${rps[oidc-provider.issue]}")
RSS: idle $(mib "$rss_idle") MiB, with 10,000 pending flows $(mib "$rss_10k") MiB
emulator stderr (default logging) during poll-200 + poll-steady: $emulator_log_bytes bytes in $emulator_log_requests lines
emulator -q (no per-request log) poll-steady: ${rps[emulator-q.poll-steady]} req/s, ${cpu_us[emulator-q.poll-steady]} µs CPU/answer, p99 ${p99[emulator-q.poll-steady]} µs ($(ratio "${rps[emulator-q.poll-steady]}" "${rps[ceiling.poll-200]}") of the ceiling)

poll-steady answers: ${shares[$s]}

targets (on poll-steady, the pending path):
  >= 60% of the ceiling:            $(verdict "${rps[$s]} >= 0.6 * ${rps[ceiling.poll-200]}") ($(ratio "${rps[$s]}" "${rps[ceiling.poll-200]}"))
  <= 20 µs server CPU per poll:     $(verdict "${cpu_us[$s]} <= 20") (${cpu_us[$s]} µs)
  p99 < 5 ms:                       $(verdict "${p99[$s]} < 5000") (${p99[$s]} µs)
  < 30 MiB RSS at 10,000 pending:   $(verdict "$rss_10k < 30 * 1024") ($(mib "$rss_10k") MiB)
EOF
