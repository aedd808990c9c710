// Package certs owns the proxy's certificate authority.
//
// It loads the CA from a config directory or creates one there
// ([LoadOrCreate], [Load], [Create]), mints per-host leaf certificates
// signed by it behind an LRU cache ([Leaves]), and exports the CA in the
// forms users need to trust it: PEM, DER and a key-less PKCS#12
// ([EncodeCertificate], [CA.Export]), fingerprints and the SPKI hash
// Chromium accepts on its command line.
//
// Sub-packages: installpage serves the certificate to devices through the
// proxy; truststore adds it to NSS databases and the system store.
//
// What it must not do:
//   - import anything but the standard library, golang-lru, singleflight and
//     go-pkcs12 (for the .p12 export); the proxy engine and the TUI depend
//     on certs, never the reverse;
//   - export the key in any format: every export carries the certificate only;
//   - write to the terminal or prompt: every problem is an error that names
//     the file and, where there is one, the fix;
//   - silently replace a CA that is half present, unreadable or mismatched.
//     Users have trusted that certificate; only [Create] overwrites, and
//     only because a caller asked for a new CA.
package certs
