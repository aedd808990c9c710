// Send no cookies and keep none: strip Cookie and Set-Cookie.
function requestheaders(flow) {
  flow.request.headers.delete("Cookie");
}

function responseheaders(flow) {
  const n = flow.response.headers.getAll("Set-Cookie").length;
  if (n > 0) {
    flow.response.headers.delete("Set-Cookie");
    flow.response.headers["X-Cookies-Stripped"] = n;
  }
}
