-- wrk script: POST device-code grant polls (form bodies), round-robin over the device
-- codes listed one per line in $CODES_FILE. Each wrk thread cycles its own slice of
-- the codes, so every code is polled once per (#codes / requests per second) seconds.
-- Counts the answers by their OAuth `error` (or `tokens`/status) and prints a RESULT
-- line for bench/emulator.sh. Env: CODES_FILE, POLL_PATH, CLIENT_ID, WRK_THREADS.
local path = os.getenv("POLL_PATH") or "/user_management/authenticate"
local client_id = os.getenv("CLIENT_ID") or "client_bench"
local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local all = {}
  for line in io.lines(os.getenv("CODES_FILE")) do
    if #line > 0 then all[#all + 1] = line end
  end
  bodies = {}
  for i = id, #all, nthreads do
    bodies[#bodies + 1] = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
      .. "&client_id=" .. client_id .. "&device_code=" .. all[i]
  end
  idx = 0
  answers = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  idx = idx % #bodies + 1
  return wrk.format(nil, path, nil, bodies[idx])
end

function response(status, headers, body)
  local answer = body:match('"error"%s*:%s*"([%w_]+)"')
  if not answer then answer = (status == 200) and "tokens" or ("http_" .. status) end
  answers[answer] = (answers[answer] or 0) + 1
end

function done(summary, latency, requests)
  local total, merged = 0, {}
  for _, thread in ipairs(threads) do
    local t = thread:get("answers")
    for k, v in pairs(t) do
      merged[k] = (merged[k] or 0) + v
      total = total + v
    end
  end
  local shares = {}
  for k, v in pairs(merged) do
    shares[#shares + 1] = string.format("%s=%.4f", k, v / math.max(total, 1))
  end
  table.sort(shares)
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.0f p50_us=%d p99_us=%d errors=%d answers=%d shares=%s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    total, table.concat(shares, ",")))
end
