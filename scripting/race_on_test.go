//go:build race

package scripting_test

// raceEnabled: the race detector slows goja down about tenfold.
const raceEnabled = true
