// On the way back: a header from the response head, and the JSON body
// changed once it is all there.
exports.onResponse = function onResponse(response) {
  return { action: "continue", headers: { "x-upstream-status": String(response.status) } };
};

exports.onResponseBody = function onResponseBody(response) {
  if (response.bodyEncoding === "json") {
    response.body.interceptedBy = "plenum";
    return { action: "continue", body: response.body };
  }
  return { action: "continue" };
};
