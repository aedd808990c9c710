// Short-circuit: a request without the right API key is answered here.
exports.checkApiKey = function checkApiKey(request) {
  if (request.headers["x-api-key"] !== request.options.key) {
    return { action: "respond", status: 401, body: { error: "Unauthorized" } };
  }
  return { action: "continue", ctx: { userId: "123" } };
};
