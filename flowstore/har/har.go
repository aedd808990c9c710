package har

import (
	"encoding/json"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// The HAR 1.2 objects (http://www.softwareishard.com/blog/har-12-spec/),
// with the extensions this package writes and reads. Field order is the
// order written.

// HAR is the file: one object holding the log.
type HAR struct {
	Log Log `json:"log"`
}

// Log is the root of the data.
type Log struct {
	Version string   `json:"version"`
	Creator Creator  `json:"creator"`
	Browser *Creator `json:"browser,omitempty"`
	Pages   []Page   `json:"pages,omitempty"`
	Entries []Entry  `json:"entries"`
	Comment string   `json:"comment,omitempty"`
}

// Creator names the application that wrote the log (Browser has the same
// shape).
type Creator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Comment string `json:"comment,omitempty"`
}

// Page is a page load in a browser's log; flows have none.
type Page struct {
	StartedDateTime string      `json:"startedDateTime"`
	ID              string      `json:"id"`
	Title           string      `json:"title"`
	PageTimings     PageTimings `json:"pageTimings"`
	Comment         string      `json:"comment,omitempty"`
}

// PageTimings are a page's load milestones in milliseconds.
type PageTimings struct {
	OnContentLoad *float64 `json:"onContentLoad,omitempty"`
	OnLoad        *float64 `json:"onLoad,omitempty"`
	Comment       string   `json:"comment,omitempty"`
}

// Entry is one exchange.
type Entry struct {
	Pageref         string   `json:"pageref,omitempty"`
	StartedDateTime string   `json:"startedDateTime"`
	Time            float64  `json:"time"`
	Request         Request  `json:"request"`
	Response        Response `json:"response"`
	Cache           Cache    `json:"cache"`
	Timings         Timings  `json:"timings"`
	ServerIPAddress string   `json:"serverIPAddress,omitempty"`
	Connection      string   `json:"connection,omitempty"`
	Comment         string   `json:"comment,omitempty"`

	// Flow is this package's extension: what HAR cannot say about a flow.
	Flow *FlowInfo `json:"_flow,omitempty"`
	// WebSocketMessages is Chrome's extension for a WebSocket's messages.
	WebSocketMessages []WSMessage `json:"_webSocketMessages,omitempty"`
	// EventSourceMessages holds a Server-Sent Events stream's events.
	EventSourceMessages []SSEMessage `json:"_eventSourceMessages,omitempty"`
}

// FlowInfo is the "_flow" extension of an entry, in the field names of the
// JSON-lines format.
type FlowInfo struct {
	ID              string            `json:"id"`
	State           flowstore.State   `json:"state"`
	Error           *flowstore.Error  `json:"error,omitempty"`
	Marked          bool              `json:"marked,omitempty"`
	ReplayOf        string            `json:"replay_of,omitempty"`
	Client          flowstore.Client  `json:"client"`
	Server          flowstore.Server  `json:"server,omitzero"`
	Timings         flowstore.Timings `json:"timings"`
	BytesIn         int64             `json:"bytes_in,omitempty"`
	BytesOut        int64             `json:"bytes_out,omitempty"`
	Notes           []string          `json:"notes,omitempty"`
	MessagesDropped int               `json:"messages_dropped,omitempty"`
}

// Request is the request of an entry.
type Request struct {
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	QueryString []NameValue `json:"queryString"`
	PostData    *PostData   `json:"postData,omitempty"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`

	Trailers []NameValue `json:"_trailers,omitempty"`
}

// Response is the response of an entry; Status 0 when there was none.
type Response struct {
	Status      int         `json:"status"`
	StatusText  string      `json:"statusText"`
	HTTPVersion string      `json:"httpVersion"`
	Cookies     []Cookie    `json:"cookies"`
	Headers     []NameValue `json:"headers"`
	Content     Content     `json:"content"`
	RedirectURL string      `json:"redirectURL"`
	HeadersSize int64       `json:"headersSize"`
	BodySize    int64       `json:"bodySize"`
	Comment     string      `json:"comment,omitempty"`

	Trailers []NameValue `json:"_trailers,omitempty"`
	// Error is Chrome's extension: why there is no response.
	Error string `json:"_error,omitempty"`
}

// Cookie is a cookie from a Cookie or Set-Cookie header.
type Cookie struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	Path     string `json:"path,omitempty"`
	Domain   string `json:"domain,omitempty"`
	Expires  string `json:"expires,omitempty"`
	HTTPOnly bool   `json:"httpOnly,omitempty"`
	Secure   bool   `json:"secure,omitempty"`
	Comment  string `json:"comment,omitempty"`
}

// NameValue is a header or a query parameter.
type NameValue struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Comment string `json:"comment,omitempty"`
}

// PostData is a request body.
type PostData struct {
	MimeType string  `json:"mimeType"`
	Params   []Param `json:"params,omitempty"`
	Text     string  `json:"text"`
	Comment  string  `json:"comment,omitempty"`

	// Encoding is "base64" when Text is the body base64-encoded (Chrome's
	// extension; some tools write it without the underscore, which Read
	// also accepts through PlainEncoding).
	Encoding      string `json:"_encoding,omitempty"`
	PlainEncoding string `json:"encoding,omitempty"`
	Truncated     bool   `json:"_truncated,omitempty"`
}

// Param is a posted form field.
type Param struct {
	Name        string `json:"name"`
	Value       string `json:"value,omitempty"`
	FileName    string `json:"fileName,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Comment     string `json:"comment,omitempty"`
}

// Content is a response body.
type Content struct {
	Size        int64  `json:"size"`
	Compression *int64 `json:"compression,omitempty"`
	MimeType    string `json:"mimeType"`
	Text        string `json:"text,omitempty"`
	Encoding    string `json:"encoding,omitempty"`
	Comment     string `json:"comment,omitempty"`

	// RawBody is the body as received, base64, when it differs from the
	// decoded Text (see the package comment).
	RawBody   string `json:"_rawBody,omitempty"`
	Truncated bool   `json:"_truncated,omitempty"`
}

// Cache is the browser cache state around an entry; flows write it empty.
type Cache struct {
	BeforeRequest *CacheEntry `json:"beforeRequest,omitempty"`
	AfterRequest  *CacheEntry `json:"afterRequest,omitempty"`
	Comment       string      `json:"comment,omitempty"`
}

// CacheEntry is one side of Cache.
type CacheEntry struct {
	Expires    string `json:"expires,omitempty"`
	LastAccess string `json:"lastAccess"`
	ETag       string `json:"eTag"`
	HitCount   int    `json:"hitCount"`
	Comment    string `json:"comment,omitempty"`
}

// Timings are the phases of an exchange in milliseconds; -1 means the
// phase did not happen or is not known. SSL is part of Connect.
type Timings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	SSL     float64 `json:"ssl"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	Comment string  `json:"comment,omitempty"`
}

// UnmarshalJSON reads timings, leaving the optional phases at -1 when a
// file leaves them out (the spec's "does not apply").
func (t *Timings) UnmarshalJSON(b []byte) error {
	type plain Timings
	p := plain{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Timings(p)
	return nil
}
