// Headers on the way up: a request ID, a header removed (null deletes),
// and one from ctx, which an earlier interceptor filled.
exports.onRequest = function onRequest(request) {
  return {
    action: "continue",
    headers: { "x-request-id": crypto.randomUUID(), "x-remove-me": null },
  };
};

exports.beforeUpstream = function beforeUpstream(request) {
  return { action: "continue", headers: { "x-user-id": request.ctx.userId || "anonymous" } };
};
