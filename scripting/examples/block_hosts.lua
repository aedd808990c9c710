-- Block hosts: answer 403 without contacting them. Hosts come from
-- --set block=ads.example,tracker.example (a host blocks its subdomains).

local blocked = {}
for host in (options.block or "ads.example.com,tracker.example.com"):gmatch("[^,%s]+") do
  blocked[#blocked + 1] = host:lower()
end

local function is_blocked(host)
  host = host:lower()
  for _, b in ipairs(blocked) do
    if host == b or host:sub(-#b - 1) == "." .. b then
      return true
    end
  end
  return false
end

function requestheaders(flow)
  if is_blocked(flow.request.host) then
    log.info("blocked", flow.request.url)
    flow:respond(403, {["Content-Type"] = "text/plain"}, "blocked by interceptor-tui\n")
  end
end
