// Package filter owns mitmproxy's filter language: parsing an expression
// such as `~d example.com & !~c 200` into a Filter and matching flows with
// it. The flow list, breakpoints, Lua's on(...), headless output and export
// all share it, so a filter means the same thing everywhere.
//
// It is pure: no I/O, no UI, no proxy engine. A Filter is immutable and safe
// for concurrent use; its regexes are compiled once, by Parse.
//
// # Operators
//
// Each operator is one entry of a table (name, argument kind, help text,
// match function); the parser and Help are both generated from it. See Help
// for the list. `!` binds tightest, then `&`, then `|`; parentheses group.
// Expressions written side by side are joined with AND at a precedence
// LOWER than `|`, as in mitmproxy: `~m POST ~c 201 | ~c 404` means
// `~m POST & (~c 201 | ~c 404)`. A bare word or quoted string is a `~u`
// regex. Regexes are RE2, case-insensitive, searched for anywhere; body
// operators add DOTALL, header and comment operators MULTILINE.
//
// The shorthand fields host:, status:, method:, type:, url:, path:, body:
// and header: stand for ~d, ~c, ~m, ~t, ~u, ~u, ~b and ~h; status: also
// takes a class such as 4xx. Any other word with a colon (http://x) stays a
// URL regex.
//
// # Tokens
//
// These follow mitmproxy's pyparsing grammar, with the differences marked.
//
//   - A bare word runs until whitespace or one of ( ) ~ ' " — so `!`, `&`
//     and `|` inside a word are part of it: `~m put|patch` is the one regex
//     put|patch, and `foo|bar` a single URL regex. A regex containing a
//     space, a parenthesis, a tilde or a quote must be quoted.
//   - Where an expression is expected, a leading `!` is "not", and a leading
//     `&` or `|` is an operator (so `& ~q` is an error; mitmproxy reads it as
//     the URL regex "&"). An argument of a regex operator may start with
//     `!`, `&` or `|` (`~b &page=2`), but a lone one is taken as an
//     operator, so `~d & ~q` reports the missing argument.
//   - An operator name runs until whitespace or one of ( ) ! & | ~ ' ", so
//     `~q|~s` and `(~q)` work (mitmproxy rejects both) and `~qs` is an
//     unknown operator.
//   - A word that ends in `|` or `&` right before a `~` gives that character
//     back as an operator: `~d a|~d b` is an OR (mitmproxy reads the regex
//     "a|", which matches everything).
//   - `~c` reads digits up to the next space or operator character:
//     `~c 200|~c 404` is an OR; `~c 20x` is an error (mitmproxy reads
//     `~c 20 & ~u x`).
//   - In '…' and "…" a backslash escapes a quote or a backslash; any other
//     backslash is kept, so `"api\.example"` reaches RE2 as api\.example
//     (pyparsing drops it, giving api.example).
//   - Parentheses may hold side-by-side expressions: `(a b)` is an AND,
//     and `!(…)` negates a group (mitmproxy 8.1.1 rejects both).
//
// An empty or all-whitespace expression parses to a Filter that matches
// every flow.
package filter
