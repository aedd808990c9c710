// Package har owns HAR 1.2 (HTTP Archive) export and import: writing flows
// as a HAR log other tools read (browsers' DevTools, Charles, mitmproxy, HAR
// viewers), and loading the HAR files those tools write.
//
// It is pure: it reads and writes through the io.Reader and io.Writer it is
// given, and knows nothing of the proxy engine or the UI.
//
// # What an export holds
//
// Standard HAR fields carry what HAR can say: the request with its cookies,
// query string and postData; the response with its cookies and content;
// startedDateTime, time and timings; serverIPAddress and connection (the
// client's port). Headers keep their wire order, case and repeats.
//
// Bodies follow HAR and Chrome. A request body is postData.text as sent (a
// body that is not UTF-8 text is base64 with "_encoding": "base64", Chrome's
// extension; the params of a urlencoded form are listed too). A response
// body is content.text DECODED from its Content-Encoding, as HAR asks and
// browsers write, with content.size the decoded length and compression the
// bytes saved; a body that is not UTF-8 text is base64 with "encoding":
// "base64". To give back the exact bytes the upstream sent, an encoded body
// also carries them base64 in the content's "_rawBody"; so does a body whose
// Content-Encoding could not be undone (then content.text is left out).
// Re-compressing the decoded text instead would give different bytes than
// the upstream's compressor, and an export→import→export that drifts.
//
// What HAR has no field for goes in "_" extensions, which HAR 1.2 allows and
// other tools ignore: "_flow" on each entry holds the flow's ID, state,
// error, marked flag, replay-of link, notes, client and server connections
// (addresses, TLS) and exact timestamps, in the field names of the JSON-lines
// format; "_truncated" on postData or content marks a body kept only in part
// (bodySize then says how long it was); "_trailers" carries trailers.
// A failed flow has a response with status 0 and Chrome's "_error" message.
// Not exported: the original messages of an edited flow, and header values
// or URLs that are not UTF-8 (JSON text cannot hold them; such bytes become
// U+FFFD).
//
// An export of our own flows imports back to the same flows, so export →
// import → export is byte-stable.
//
// # Import
//
// Read takes HAR 1.1 and 1.2 as Chrome, Firefox, Charles and mitmproxy write
// it. Headers are the truth for a message: cookies, queryString and mimeType
// are derived data and are not read. HTTP/2 pseudo-headers (":authority")
// are dropped. A response body without "_rawBody" is the decoded content.text,
// encoded again with the response's Content-Encoding (and Content-Length set
// to the new length) so that the flow's headers stay true. A response with
// status 0 (Chrome's blocked or failed requests) becomes a failed flow. Timings
// become timestamps laid end to end from startedDateTime. An entry with no
// body text but a size (Chrome leaves out large or cached bodies) gets a
// body marked truncated. WebSocket messages (Chrome's "_webSocketMessages")
// are not imported; the flow's notes say how many there were.
//
// A damaged file loads what it can: an entry that cannot become a flow (a
// bad URL, no method) is skipped, and a file cut short keeps the entries
// before the cut; each problem is a Warning with the line and entry number.
package har
