-- Strip cookies both ways: the server never sees the client's cookies and
-- the client never gets new ones. Useful to test a site logged out.

function requestheaders(flow)
  flow.request.headers["Cookie"] = nil
end

function responseheaders(flow)
  local n = #flow.response.headers:get_all("Set-Cookie")
  if n > 0 then
    flow.response.headers["Set-Cookie"] = nil
    flow.response.headers["X-Cookies-Stripped"] = n
  end
end
