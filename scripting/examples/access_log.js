// One line per finished flow in the event log, in the manner of an
// access log: client, method, URL, status, bytes, duration.
function done(flow) {
  const status = flow.response ? flow.response.status : "-";
  let line = `${flow.clientAddr} ${flow.request.method} ${flow.request.url} ${status} ${flow.bytesOut} ${(flow.durationMs || 0).toFixed(1)}ms`;
  if (flow.error) line += " error=" + flow.error;
  console.log(line);
}
