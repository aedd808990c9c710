// Package installpage is the page a device sees at http://interceptor.tui/
// through the proxy: the CA certificate to download as PEM, DER or
// PKCS#12, its fingerprint, and how to trust it on each system.
//
// What it must not do:
//   - serve the CA key, or anything read from disk: [New] turns the
//     certificate into bytes once and the handler holds nothing else, so
//     no path, however it is spelled, can reach a file;
//   - load anything from elsewhere: the page has its styles inline and no
//     scripts, fonts or images, because the device that opens it may not
//     trust anything yet.
package installpage
