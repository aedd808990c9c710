// Package share is what leaves the program, as data: the forms y copies
// and x exports a flow in (Export), a body as its content (Body), flows
// saved as HAR or JSON lines (Flows), read from the store one at a time as
// the file is written, and the file itself, written through a temporary
// file in the same directory and renamed, so that a failure (a read-only
// directory, a full disk) leaves no half file (Job.Write).
//
// It asks nothing of the user: the root opens the prompts (what, where,
// replace?) and says what happened. It imports no component.
package share
