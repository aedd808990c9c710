-- Capture a value in request and use it in response, through flow.ctx
-- (a table shared by every hook of one flow, across scripts and phases):
-- here the request's X-Request-Id, echoed back with the time it took.

function request(flow)
  flow.ctx.request_id = flow.request.headers["X-Request-Id"] or flow.id
  flow.ctx.started = os.clock()
end

function response(flow)
  flow.response.headers["X-Request-Id"] = flow.ctx.request_id
  flow.response.headers["X-Proxy-Ms"] = string.format("%.3f", (os.clock() - flow.ctx.started) * 1000)
end
