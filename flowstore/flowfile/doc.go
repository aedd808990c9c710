// Package flowfile owns telling flow files apart and loading them: the
// JSON-lines format of flowstore (--save) and HAR (browsers, Charles,
// mitmproxy, our own export), chosen by content, never by file name, so
// --load takes either.
//
// It reads through the io.Reader it is given and knows nothing of the proxy
// engine or the UI.
package flowfile
