-- Mock an endpoint: GET /api/user/<id> is answered with JSON made here,
-- and the real server never sees it. Everything else goes through.

on("request", "~m GET & ~u /api/user/[0-9]+$", function(flow)
  local id = tonumber(flow.request.path:match("/api/user/(%d+)$"))
  flow:respond(200, {["Content-Type"] = "application/json", ["X-Mock"] = "mock_endpoint.lua"}, {
    id = id,
    name = "Mock User " .. id,
    roles = json.array({"tester"}),
  })
end)
