// At most `limit` requests per host in each window of `window` seconds;
// the rest are answered 429 with Retry-After. shared is one store for all
// flows, safe under concurrency.
//
//   interceptor-tui -s rate_limit.js --set limit=10 --set window=60
const limit = Number(options.limit) || 10;
const window = Number(options.window) || 60;

function requestheaders(flow) {
  const now = Date.now() / 1000;
  const slot = Math.floor(now / window);
  const n = shared.incr(`rate:${flow.request.host}:${slot}`, 1, window * 2);
  if (n > limit) {
    flow.respond(429, {
      "Content-Type": "text/plain",
      "Retry-After": String(Math.ceil(window - (now % window))),
    }, "rate limited by interceptor-tui\n");
  }
}
