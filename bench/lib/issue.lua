-- wrk script: POST device authorizations (form body `client_id=…`) to $ISSUE_PATH.
-- Counts answers by HTTP status and prints a RESULT line for bench/emulator.sh.
local path = os.getenv("ISSUE_PATH") or "/user_management/authorize/device"
local client_id = os.getenv("CLIENT_ID") or "client_bench"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  answers = {}
  wrk.method = "POST"
  wrk.path = path
  wrk.body = "client_id=" .. client_id
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function response(status, headers, body)
  local answer = "http_" .. status
  answers[answer] = (answers[answer] or 0) + 1
end

function done(summary, latency, requests)
  local total, merged = 0, {}
  for _, thread in ipairs(threads) do
    for k, v in pairs(thread:get("answers")) do
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
