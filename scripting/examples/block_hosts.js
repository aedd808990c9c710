// Answer requests to some hosts (and their subdomains) with 403, without
// contacting them.
//
//   interceptor-tui -s block_hosts.js --set block=ads.example.com,tracker.example.com
const blocked = (options.block || "ads.example.com,tracker.example.com")
  .split(/[\s,]+/).filter(Boolean).map((h) => h.toLowerCase());

function isBlocked(host) {
  host = host.toLowerCase();
  return blocked.some((b) => host === b || host.endsWith("." + b));
}

function requestheaders(flow) {
  if (isBlocked(flow.request.host)) {
    console.log("blocked", flow.request.url);
    flow.respond(403, {"Content-Type": "text/plain"}, "blocked by interceptor-tui\n");
  }
}
