// Redact secrets in JSON WebSocket messages both ways, drop messages that
// match a pattern, and log per connection what was done.
//
//   interceptor-tui -s websocket_redact.js --set keys=password,token --set drop='^heartbeat$'
const keys = new Set((options.keys || "password,token,secret,authorization")
  .split(/[\s,]+/).filter(Boolean).map((k) => k.toLowerCase()));
const drop = options.drop ? new RegExp(options.drop) : null;

function redact(v) {
  if (v === null || typeof v !== "object") return 0;
  let n = 0;
  for (const k of Object.keys(v)) {
    if (keys.has(k.toLowerCase())) {
      v[k] = "***";
      n++;
    } else {
      n += redact(v[k]);
    }
  }
  return n;
}

on("websocket_message", "~websocket", (flow, message) => {
  if (message.kind !== "text") return;
  const ctx = flow.ctx; // one object for the whole connection
  if (drop && drop.test(message.text)) {
    message.drop();
    ctx.dropped = (ctx.dropped || 0) + 1;
    return;
  }
  let data;
  try {
    data = JSON.parse(message.text);
  } catch (e) {
    return; // not JSON: sent on as it is
  }
  const n = redact(data);
  if (n > 0) {
    message.text = JSON.stringify(data);
    ctx.redacted = (ctx.redacted || 0) + n;
  }
});

on("done", "~websocket", (flow) => {
  const ctx = flow.ctx;
  if (ctx.redacted || ctx.dropped) {
    console.log(`${flow.request.url}: ${ctx.redacted || 0} values redacted, ${ctx.dropped || 0} messages dropped`);
  }
});
