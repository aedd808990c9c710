-- An access log line per flow, in the event log, when the flow is done:
-- client, method, URL, status, bytes, duration, and the error if any.

function done(flow)
  local status = flow.response and flow.response.status or "-"
  local line = string.format("%s %s %s %s %d %.1fms",
    flow.client_addr, flow.request.method, flow.request.url, status,
    flow.bytes_out, flow.duration_ms or 0)
  if flow.error then
    line = line .. " error=" .. flow.error
  end
  log.info(line)
end
