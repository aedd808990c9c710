// Package export owns the ways a request or response leaves the program
// as text for another tool: a curl or HTTPie command, the raw HTTP/1 message,
// the URL. The TUI's copy (y) and export (x) keys use it.
//
// It is pure: it builds strings and bytes, and never runs a command, writes
// a file or touches the clipboard.
//
// # Shell quoting
//
// Commands are for a POSIX shell (sh, dash, bash, zsh, ksh). Every argument
// is single-quoted; a quote inside one is closed, escaped and reopened:
//
//	-H 'X-Note: it'\''s'
//
// Characters that are not printable — control characters, invalid UTF-8,
// Unicode format characters such as the bidi overrides — never appear raw on
// the command line (where a terminal could act on them, or a reader miss
// them): they are produced by "$(printf '\ooo')". The $'\xNN' form would be
// shorter but dash, /bin/sh on Debian, does not have it. A NUL byte cannot be
// part of any argument; bodies that hold one go through a pipe or a file,
// never through an argument.
//
// # Bodies
//
// A body of printable UTF-8 text up to 64 KiB goes on the command line. Any
// other body (binary, with CR or tabs, or large enough to meet the kernel's
// per-argument limit) is piped in from printf — a shell builtin, so no size
// limit — or, when Options.BodyFile is set, read from that file, whose bytes
// the Command functions return for the caller to write. A truncated body
// (Body.Truncated) is sent as far as it was kept.
package export
