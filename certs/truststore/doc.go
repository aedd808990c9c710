// Package truststore adds the CA certificate to the places programs look
// for trusted authorities, removes it, and says whether it is there: NSS
// databases (Chromium and Chrome on Linux read ~/.pki/nssdb, Firefox one
// per profile) through NSS's certutil, and the Debian/Ubuntu system store
// through update-ca-certificates. For systems it does not drive itself it
// gives the exact commands to run, their words quoted for a shell
// (ShellQuote, which the program's other printed commands use too).
//
// What it must not do:
//   - handle the CA key: it works with the certificate alone;
//   - write to the terminal or prompt: it returns results and errors that
//     name the missing tool's package or the fix, and the command prints;
//   - decide about privileges: a permission error comes back wrapping
//     fs.ErrPermission and the caller says how to get them.
package truststore
