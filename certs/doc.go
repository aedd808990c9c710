// Package certs owns the proxy's certificate authority.
//
// It loads the CA from a config directory or creates one there
// ([LoadOrCreate], [Load], [Create]), mints per-host leaf certificates
// signed by it behind an LRU cache ([Leaves]), and exports the CA in the
// forms users need to trust it: PEM, DER, fingerprints and the SPKI hash
// Chromium accepts on its command line.
//
// What it must not do:
//   - import anything but the standard library, golang-lru and singleflight;
//     the proxy engine and the TUI depend on certs, never the reverse;
//   - write to the terminal or prompt: every problem is an error that names
//     the file and, where there is one, the fix;
//   - silently replace a CA that is half present, unreadable or mismatched.
//     Users have trusted that certificate; only [Create] overwrites, and
//     only because a caller asked for a new CA.
package certs
