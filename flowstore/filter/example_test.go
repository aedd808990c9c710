package filter_test

import (
	"fmt"

	"github.com/interceptor-tui/interceptor-tui/flowstore/filter"
	"github.com/interceptor-tui/interceptor-tui/flowstore/flowtest"
)

func ExampleParse() {
	// Side by side binds looser than |: POST answered 201 or 404.
	f, err := filter.Parse("~m POST ~c 201 | ~c 404")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Match(flowtest.New(flowtest.Method("POST"), flowtest.Status(404))))
	fmt.Println(f.Match(flowtest.New(flowtest.Method("GET"), flowtest.Status(404))))

	// Regexes are case-insensitive; a bare word is a URL regex.
	f = filter.MustParse(`host:EXAMPLE "/path$"`)
	fmt.Println(f.Match(flowtest.New()))

	// Errors say where.
	_, err = filter.Parse("~d example & ~c abc")
	fmt.Println(err)
	// Output:
	// true
	// false
	// true
	// col 17: status code must be an integer (like 404) or a class (like 4xx), got "abc"
}
