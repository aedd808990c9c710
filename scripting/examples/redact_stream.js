// Redact a word from a response body as it streams, without buffering
// it: the twin of redact_stream.lua. A chunk comes as a string
// of one character per byte, so a UTF-8 sequence split between chunks
// passes unharmed; the end of a chunk that could start the word is held
// back in flow.ctx and put in front of the next chunk.
const word = options.redact || "secret";
const mask = "*".repeat(word.length);

function responsechunk(flow, chunk, last) {
  let data = (flow.ctx.tail || "") + chunk;
  data = data.split(word).join(mask);
  if (last) {
    delete flow.ctx.tail;
    return data;
  }
  const keep = word.length - 1;
  flow.ctx.tail = data.slice(-keep);
  return data.slice(0, -keep);
}
