package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
)

// Where a rule came from (Rule.Source), besides a rules file's path.
const (
	SourceFlags  = "flags"  // mitmproxy's option spellings on the command line
	SourceMock   = "mock"   // a standing mock made from a flow (K)
	SourceLoaded = "loaded" // carried by flows read with --load
	SourceTUI    = "tui"    // written in the interface
)

// Rule is a matcher and the actions it takes, in order.
type Rule struct {
	// Name is unique in a set; flows record it (~rule NAME) and hit
	// counts follow it across reloads.
	Name     string
	Disabled bool
	// Passthrough lets the next rules match too; otherwise a matching
	// rule is the last one of its phase.
	Passthrough bool
	Match       Match
	Actions     []Action

	// Not part of the rule's YAML: where it came from.
	Source string // a rules file's path, or one of the Source constants
	Line   int    // its line in that file (0: none)
	MockOf string // a standing mock: the ID of the flow it was made from
}

// Where says where a rule came from, for messages: "rules.yaml:12".
func (r *Rule) Where() string {
	switch {
	case r.Source == "":
		return ""
	case r.Line > 0:
		return fmt.Sprintf("%s:%d", r.Source, r.Line)
	}
	return r.Source
}

// Match selects flows. Every field given must hold; none given matches
// every flow.
type Match struct {
	Filter string // the filter language: ~d api.example.com & ~m POST
	Method string // the method, in any case
	// Path is the request path without its query; * matches any run of
	// characters (/api/*/items). URL is the same for the whole URL.
	Path           string
	URL            string
	RequestHeaders []HeaderMatch
}

// IsZero reports a matcher that selects every flow.
func (m *Match) IsZero() bool {
	return strings.TrimSpace(m.Filter) == "" && m.Method == "" && m.Path == "" && m.URL == "" && len(m.RequestHeaders) == 0
}

// Operator compares a request header (Imposter's operators).
type Operator string

const (
	EqualTo     Operator = "EqualTo" // the default
	NotEqualTo  Operator = "NotEqualTo"
	Exists      Operator = "Exists"
	NotExists   Operator = "NotExists"
	Contains    Operator = "Contains"
	NotContains Operator = "NotContains"
	Matches     Operator = "Matches" // a regex the whole value matches
	NotMatches  Operator = "NotMatches"
)

var operators = []Operator{EqualTo, NotEqualTo, Exists, NotExists, Contains, NotContains, Matches, NotMatches}

// HeaderMatch is one condition on a request header. A header sent several
// times satisfies a positive operator when one of its values does, and a
// negative one when none does; a missing header satisfies the negative
// operators.
type HeaderMatch struct {
	Name     string
	Value    string
	Operator Operator // "" is EqualTo
}

// Side is the message an action works on.
type Side uint8

const (
	Request Side = 1 << iota
	Response
	Both = Request | Response
)

func (s Side) String() string {
	switch s {
	case Request:
		return "request"
	case Response:
		return "response"
	case Both:
		return "both"
	}
	return fmt.Sprintf("side(%d)", uint8(s))
}

// Action is one thing a rule does: exactly one of its fields is set.
type Action struct {
	Respond      *Respond
	MapLocal     *MapLocal
	MapRemote    *MapRemote
	SetHeader    *SetHeader
	RemoveHeader *RemoveHeader
	Replace      *Replace
	Block        *Block
	Delay        *Delay
	Throttle     *Throttle
	Capture      *Capture
}

// Kind is the action's name in YAML ("map-local"), or "" when no field or
// more than one is set.
func (a Action) Kind() string {
	kind := ""
	for _, k := range []struct {
		set  bool
		name string
	}{
		{a.Respond != nil, "respond"}, {a.MapLocal != nil, "map-local"}, {a.MapRemote != nil, "map-remote"},
		{a.SetHeader != nil, "set-header"}, {a.RemoveHeader != nil, "remove-header"}, {a.Replace != nil, "replace"},
		{a.Block != nil, "block"}, {a.Delay != nil, "delay"}, {a.Throttle != nil, "throttle"}, {a.Capture != nil, "capture"},
	} {
		if k.set {
			if kind != "" {
				return ""
			}
			kind = k.name
		}
	}
	return kind
}

// Respond answers the request without contacting the origin.
type Respond struct {
	Status  int // 200 when a file gives it as 0
	Reason  string
	Headers flowstore.Headers
	// Body is sent as written, ${...} templates expanded (unless Verbatim;
	// $${ is a literal ${). File, when set, is sent instead: as it is, or
	// with templates expanded when Template is set. Its Content-Type comes
	// from its extension unless Headers give one.
	Body     string
	File     string
	Template bool
	Verbatim bool // Body holds bytes to send exactly (a standing mock's)
}

// MapLocal answers with a local file. Path is a file, or a directory the
// request's path is resolved into (never outside it; "dir/" and
// "dir/index.html" for a path naming a directory). URL, a regex, limits the
// rule to URLs it is found in, and what follows the match (or its first
// group) is the path looked up in the directory, as mitmproxy's
// --map-local has it; without URL the whole request path is. With no file
// for the request the answer is 404; a passthrough rule first lets the
// next rules try (mitmproxy's order), and 404 comes when none answered.
type MapLocal struct {
	Path string
	URL  string
}

// MapRemote sends the request elsewhere: the regex From, searched in the
// URL, is replaced by To (with $1 or ${name} for its groups), as
// mitmproxy's --map-remote. The rule matches only URLs From is found in.
// The Host header names the new authority.
type MapRemote struct {
	From string
	To   string
}

// SetHeader sets a header on the request, the response, or both. The
// first set-header of a name in a phase replaces the values the message
// came with; later ones (another passthrough rule's) add theirs, as
// repeated --modify-headers do. An empty Value sets nothing (it removes).
// File, when set, holds the value, read each time (mitmproxy's @file).
type SetHeader struct {
	Name  string
	Value string
	File  string
	In    Side // Request when 0
}

// RemoveHeader removes every line of a header.
type RemoveHeader struct {
	Name string
	In   Side // Request when 0
}

// Replace rewrites every match of the regex Pattern in a body (decoded
// from its Content-Encoding for the match, encoded again after) or, when
// Header is set, in that header's values. With may use $1 or ${name};
// Literal sends With as it is. WithFile, when set, holds the replacement,
// read each time (mitmproxy's @file).
type Replace struct {
	In       Side // required: request, response or both
	Header   string
	Pattern  string
	With     string
	WithFile string
	Literal  bool
}

// Block stops the request: answers Status, or closes the client's
// connection, or resets it (TCP RST; an HTTP/2 stream is reset either way).
type Block struct {
	Status int
	Close  bool
	Reset  bool
}

// Delay waits before the request goes on, and before the response starts.
type Delay struct {
	Request  time.Duration
	Response time.Duration
}

// Throttle limits bandwidth each way (bits per second; 0: no limit) and
// adds latency before the response starts. Preset names one of Presets;
// its values fill the fields left zero.
type Throttle struct {
	Preset  string
	Down    int64
	Up      int64
	Latency time.Duration
}

// Capture stores request values for templates of later responses:
// ${stores.STORE.KEY}.
type Capture struct {
	Fields []CaptureField
}

// CaptureField is one value to capture: Key in Store (default "default"),
// taken From a part of the request named by Arg.
type CaptureField struct {
	Key   string
	Store string
	From  CaptureFrom
	Arg   string
}

// CaptureFrom is the part of the request a value is captured from.
type CaptureFrom string

const (
	FromHeader      CaptureFrom = "requestHeader" // Arg: header name
	FromQuery       CaptureFrom = "queryParam"    // Arg: parameter name
	FromPathSegment CaptureFrom = "pathSegment"   // Arg: 0-based index of a path segment
	FromJSON        CaptureFrom = "jsonPath"      // Arg: $.a.b[0] in a JSON request body
	FromValue       CaptureFrom = "value"         // Arg: a template, ${request.path}
)

var captureFroms = []CaptureFrom{FromHeader, FromQuery, FromPathSegment, FromJSON, FromValue}

// DefaultStore is the store a capture without one writes to.
const DefaultStore = "default"
