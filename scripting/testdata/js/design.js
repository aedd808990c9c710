// The flow-scripting documents' example in JavaScript: read the host,
// set X-Trace, append to the request body; set Server and overwrite the
// response body. The twin of the Lua designScript in e2e_test.go.
function request(flow) {
  const h = flow.request.headers;
  console.log(h.get("host"));
  h.set("X-Trace", "abc123");
  flow.request.body.text = flow.request.body.text + " appended from JS";
}

function response(flow) {
  const h = flow.response.headers;
  h.set("Server", "JSProxy");
  flow.response.body.text = "overwritten response";
}
