#!/usr/bin/env bash
# Benchmark: how fast is `workos-cli-auth token` with a valid cached token, compared with
# `gh auth token` reading a file-stored token, on this machine, in one run? Also: the
# time of a `token` that must refresh against the emulator.
#
# Needs: hyperfine and gh (Debian packages; installed here if missing and root).
# Usage: bench/token.sh [runs]       (default 200 runs per command)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200}

if ! command -v hyperfine >/dev/null || ! command -v gh >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hyperfine gh >/dev/null
  else
    echo "bench/token.sh needs hyperfine and gh" >&2; exit 1
  fi
fi

cargo build --release --quiet -p workos-cli-auth
bin=$PWD/target/release/workos-cli-auth
work=$(mktemp -d)
trap 'kill ${emu_pid:-0} 2>/dev/null || true; rm -rf "$work"' EXIT

# An emulator that approves every login by itself, so no browser is needed.
"$bin" emulator --port 0 --auto-approve demo@example.com --interval 1 >"$work/emu.url" 2>"$work/emu.log" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/emu.url" ] && break; sleep 0.1; done
url=$(head -1 "$work/emu.url")

export WORKOS_CLI_AUTH_HOME=$work/home WORKOS_CLI_AUTH_STORE=file
"$bin" --client-id client_bench --api-base-url "$url" login --no-browser --quiet
"$bin" token >/dev/null

# gh with a file-stored fake token and no network.
mkdir -p "$work/gh"
cat >"$work/gh/hosts.yml" <<'YML'
github.com:
    oauth_token: gho_0000000000000000000000000000000000fake
    user: bench
    git_protocol: https
YML
export GH_CONFIG_DIR=$work/gh GH_NO_UPDATE_NOTIFIER=1 GH_PROMPT_DISABLED=1
gh auth token >/dev/null

expire="python3 -c \"import json,sys;p='$work/home/profiles/default.json';d=json.load(open(p));d['access_token_expires_at']=1;open(p,'w').write(json.dumps(d))\""

hyperfine --warmup 20 --runs "$runs" -N --export-json "$work/fast.json" \
  -n "workos-cli-auth token (cached)" "$bin token" \
  -n "gh auth token (file)" "gh auth token" >/dev/null
hyperfine --warmup 3 --runs 30 --export-json "$work/refresh.json" \
  --prepare "$expire" -n "workos-cli-auth token (refresh)" "$bin token" >/dev/null

python3 - "$work/fast.json" "$work/refresh.json" <<'PY'
import json, sys
fast = json.load(open(sys.argv[1]))["results"]
refresh = json.load(open(sys.argv[2]))["results"][0]
ours, gh = fast[0]["median"], fast[1]["median"]
print(f"workos-cli-auth token, cached token : median {ours*1e3:7.2f} ms")
print(f"gh auth token, file-stored token    : median {gh*1e3:7.2f} ms")
print(f"ratio (gh / ours)                   : {gh/ours:7.1f}x  (target >= 20x)")
print(f"workos-cli-auth token, with refresh : median {refresh['median']*1e3:7.2f} ms")
PY
