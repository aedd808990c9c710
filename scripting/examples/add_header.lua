-- Add a header to every request, and say so in every response.
-- The header's name and value can be set from the command line:
--
--   interceptor-tui -s add_header.lua --set header=X-Debug --set value=1

local name = options.header or "X-Intercepted-By"
local value = options.value or "interceptor-tui"

function requestheaders(flow)
  flow.request.headers[name] = value
end

function responseheaders(flow)
  flow.response.headers["X-Seen-By-Proxy"] = "yes"
end
