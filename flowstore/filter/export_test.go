package filter

import "strings"

// Tree renders the parsed expression, for tests of precedence:
// and(~m "POST", or(~c 201, ~c 404)); "all" for the empty filter.
func Tree(f *Filter) string {
	if f.root == nil {
		return "all"
	}
	var b strings.Builder
	f.root.dump(&b)
	return b.String()
}

// AppendURL and AppendHeaders build the text ~u and ~h match, without
// allocating; they must agree with Request.URL and Headers.String.
var (
	AppendURL     = appendURL
	AppendHeaders = appendHeaders
)
