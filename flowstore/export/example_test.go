package export_test

import (
	"fmt"

	"github.com/interceptor-tui/interceptor-tui/flowstore"
	"github.com/interceptor-tui/interceptor-tui/flowstore/export"
)

func ExampleCurl() {
	req := &flowstore.Request{
		Method: "POST", Scheme: "https", Host: "api.example.com", Port: 443, Path: "/v1/items?draft=1", Proto: "HTTP/1.1",
		Headers: flowstore.Headers{
			{Name: "Host", Value: "api.example.com"},
			{Name: "User-Agent", Value: "app/2.1"},
			{Name: "Accept", Value: "application/json"},
			{Name: "Accept-Encoding", Value: "gzip, br"},
			{Name: "Authorization", Value: "Bearer tok$en"},
			{Name: "Content-Type", Value: "application/json"},
			{Name: "Content-Length", Value: "17"},
		},
		Body: flowstore.NewBody([]byte(`{"name":"it's"}`)),
	}
	fmt.Println(export.Curl(req))
	// Output:
	// curl 'https://api.example.com/v1/items?draft=1' \
	//   -H 'User-Agent: app/2.1' \
	//   -H 'Accept: application/json' \
	//   -H 'Accept-Encoding: gzip, br' \
	//   -H 'Authorization: Bearer tok$en' \
	//   -H 'Content-Type: application/json' \
	//   --compressed \
	//   --data-binary '{"name":"it'\''s"}'
}

// A binary body goes to a file the caller writes; without BodyFile it
// would be piped in from printf instead.
func ExampleCurlCommand() {
	req := &flowstore.Request{
		Method: "PUT", Scheme: "http", Host: "localhost", Port: 8080, Path: "/avatar", Proto: "HTTP/1.1",
		Headers: flowstore.Headers{{Name: "Content-Type", Value: "image/png"}},
		Body:    flowstore.NewBody([]byte("\x89PNG\r\n\x1a\n\x00\x00")),
	}
	cmd, body := export.CurlCommand(req, export.Options{BodyFile: "avatar.bin"})
	fmt.Println(cmd)
	fmt.Printf("write %d bytes to avatar.bin\n", len(body))

	cmd, _ = export.CurlCommand(req, export.Options{})
	fmt.Println(cmd)
	// Output:
	// curl -X 'PUT' 'http://localhost:8080/avatar' \
	//   -H 'Content-Type: image/png' \
	//   -H 'Accept:' \
	//   -H 'User-Agent:' \
	//   --data-binary '@avatar.bin'
	// write 10 bytes to avatar.bin
	// printf '\211PNG\r\n\032\n\000\000' | curl -X 'PUT' 'http://localhost:8080/avatar' \
	//   -H 'Content-Type: image/png' \
	//   -H 'Accept:' \
	//   -H 'User-Agent:' \
	//   --data-binary @-
}
