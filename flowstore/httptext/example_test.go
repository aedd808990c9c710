package httptext_test

import (
	"fmt"
	"strings"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/httptext"
)

// A request goes to the editor as text and comes back changed: the header
// added, the body replaced, Content-Length fixed to the new body, and the
// newline the editor put at the end of the file left out of the body.
func ExampleParseRequest() {
	orig := &flowstore.Request{
		Method: "POST", Scheme: "https", Host: "api.example.com", Port: 443, Path: "/v1/items", Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Host", Value: "api.example.com"}, {Name: "Content-Length", Value: "15"}},
		Body:    flowstore.NewBody([]byte(`{"name":"old"}`)),
	}
	text := string(httptext.FormatRequest(orig))
	fmt.Print(text, "\n---\n")

	// What the person does in $EDITOR.
	text = strings.Replace(text, "Content-Length: 15\n", "Content-Length: 15\nX-Debug: 1\n", 1)
	text = strings.Replace(text, "old", "renamed", 1) + "\n"

	req, err := httptext.ParseRequest([]byte(text), orig)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Method, req.URL())
	fmt.Println(req.Headers)
	fmt.Printf("%s\n", req.Body.Data)

	_, err = httptext.ParseRequest([]byte("GET https://example.com/ HTTP/1.1\nHost: example.com\nnot a header\n"), nil)
	fmt.Println(err)
	// Output:
	// POST https://api.example.com/v1/items HTTP/1.1
	// Host: api.example.com
	// Content-Length: 15
	//
	// {"name":"old"}
	// ---
	// POST https://api.example.com/v1/items
	// Host: api.example.com
	// Content-Length: 18
	// X-Debug: 1
	// {"name":"renamed"}
	// line 3: header without a colon
}
