-- Redact WebSocket messages, both ways: in JSON text messages the values
-- of sensitive keys (at any depth) become "***" before the other side
-- sees them; messages matching a Lua pattern are dropped (keep-alives you
-- want gone, say). When the connection closes, the event log says how
-- many values were redacted and messages dropped.
--
--   interceptor-tui -s websocket_redact.lua --set keys=password,token --set drop='^heartbeat$'

local keys = {}
for k in (options.keys or "password,token,secret,authorization"):gmatch("[^,%s]+") do
  keys[k:lower()] = true
end
local drop = options.drop -- nil: drop nothing

-- redact replaces the values of sensitive keys in a decoded JSON value
-- and returns how many it replaced.
local function redact(v)
  if type(v) ~= "table" then
    return 0
  end
  local n = 0
  for k, x in pairs(v) do
    if type(k) == "string" and keys[k:lower()] then
      v[k] = "***"
      n = n + 1
    else
      n = n + redact(x)
    end
  end
  return n
end

on("websocket_message", "~websocket", function(flow, message)
  if message.kind ~= "text" then
    return
  end
  local ctx = flow.ctx -- one table for the whole connection
  if drop and message.text:find(drop) then
    message:drop()
    ctx.dropped = (ctx.dropped or 0) + 1
    return
  end
  local ok, data = pcall(json.decode, message.text)
  if not ok then
    return -- not JSON: sent on as it is
  end
  local n = redact(data)
  if n > 0 then
    message.text = json.encode(data)
    ctx.redacted = (ctx.redacted or 0) + n
  end
end)

on("done", "~websocket", function(flow)
  local ctx = flow.ctx
  if ctx.redacted or ctx.dropped then
    log.info(string.format("%s: %d values redacted, %d messages dropped",
      flow.request.url, ctx.redacted or 0, ctx.dropped or 0))
  end
end)
