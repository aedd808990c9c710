-- Rewrite a JSON response: turn a feature flag on and add a field, for
-- responses that are JSON. The body is decoded from its Content-Encoding
-- (gzip, br, ...) and encoded again; Content-Length follows.

on("response", "~t json", function(flow)
  local ok, data = pcall(json.decode, flow.response.body.text)
  if not ok or type(data) ~= "table" then
    log.warn("not JSON after all:", flow.request.url)
    return
  end
  data.features = data.features or {}
  data.features.beta = true
  data.rewritten_by = "rewrite_json.lua"
  flow.response.body.text = json.encode(data)
end)
