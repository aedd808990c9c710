// Carry a value from the request to the response of the same flow with
// flow.ctx: the request ID, and how long the proxy held the flow.
function request(flow) {
  flow.ctx.requestId = flow.request.headers["X-Request-Id"] || flow.id;
  flow.ctx.started = Date.now();
}

function response(flow) {
  flow.response.headers["X-Request-Id"] = flow.ctx.requestId;
  flow.response.headers["X-Proxy-Ms"] = (Date.now() - flow.ctx.started).toFixed(3);
}
