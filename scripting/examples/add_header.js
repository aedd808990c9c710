// Add a header to every request, and mark every response.
//
//   interceptor-tui -s add_header.js --set header=X-Debug --set value=1
const name = options.header || "X-Intercepted-By";
const value = options.value || "interceptor-tui";

function requestheaders(flow) {
  flow.request.headers[name] = value;
}

function responseheaders(flow) {
  flow.response.headers["X-Seen-By-Proxy"] = "yes";
}
