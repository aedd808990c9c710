-- Redact a word from a response body as it streams, without buffering it:
-- a huge download, an event stream, a log tail. Each chunk is rewritten
-- and sent on; the end of a chunk that could be the start of the word is
-- held back in flow.ctx and put in front of the next chunk, so a word
-- split between two chunks is still caught.
--
--   interceptor-tui -s redact_stream.lua --set redact=secret

local word = options.redact or "secret"
local mask = string.rep("*", #word)
local pattern = word:gsub("%W", "%%%0") -- match the word literally

function responsechunk(flow, chunk, last)
  local data = (flow.ctx.tail or "") .. chunk
  data = data:gsub(pattern, mask)
  if last then
    flow.ctx.tail = nil
    return data
  end
  local keep = #word - 1
  flow.ctx.tail = data:sub(-keep)
  return data:sub(1, -keep - 1)
end
