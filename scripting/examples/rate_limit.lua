-- A rate limiter: at most --set limit=N requests per host in each window
-- of --set window=S seconds; past that, 429 without contacting the server.
-- The counter lives in `shared`, which every flow and script sees.

local limit = tonumber(options.limit) or 10
local window = tonumber(options.window) or 60

function requestheaders(flow)
  local slot = math.floor(os.time() / window)
  local key = "rate:" .. flow.request.host .. ":" .. slot
  local n = shared.incr(key, 1, window * 2)
  if n > limit then
    flow:respond(429, {
      ["Content-Type"] = "text/plain",
      ["Retry-After"] = tostring(window - os.time() % window),
    }, "rate limited by interceptor-tui\n")
  end
end
