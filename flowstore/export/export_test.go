package export

// Quote and PrintfPipe are the shell encoders, for tests that run them
// through real shells.
var (
	Quote      = quote
	PrintfPipe = printfPipe
)
