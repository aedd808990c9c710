package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Format is a way of writing the CA certificate for a trust store. Every
// format carries the certificate alone: nothing here can write the key.
type Format string

const (
	// FormatPEM is base64 text, what Linux, Firefox and curl --cacert read.
	FormatPEM Format = "pem"
	// FormatDER is the binary certificate (.cer/.crt), what Windows, iOS
	// and Android install with a tap.
	FormatDER Format = "der"
	// FormatP12 is a PKCS#12 bundle of the certificate only, with an empty
	// password. Windows imports it into the store the user picks, where a
	// .cer can land among intermediate CAs.
	FormatP12 Format = "p12"
)

// Formats lists every export format, in the order a user is offered them.
var Formats = []Format{FormatPEM, FormatDER, FormatP12}

// ErrUnknownFormat: ParseFormat was given a name it does not know.
var ErrUnknownFormat = errors.New("unknown certificate format")

// ParseFormat accepts a format name or a common file extension (cer, crt,
// pfx), with or without the dot and in any case.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), ".")) {
	case "pem":
		return FormatPEM, nil
	case "der", "cer", "crt":
		return FormatDER, nil
	case "p12", "pfx", "pkcs12":
		return FormatP12, nil
	}
	return "", fmt.Errorf("%w %q: want pem, der or p12", ErrUnknownFormat, s)
}

// FormatOfFile guesses the format from a file name's extension.
func FormatOfFile(name string) (Format, bool) {
	f, err := ParseFormat(filepath.Ext(name))
	return f, err == nil
}

// FileName is the name a download in this format gets.
func (f Format) FileName() string {
	switch f {
	case FormatDER:
		return "interceptor-tui-ca.cer"
	case FormatP12:
		return "interceptor-tui-ca.p12"
	}
	return "interceptor-tui-ca.pem"
}

// MediaType is the Content-Type that makes browsers and phones offer to
// install a download rather than show it.
func (f Format) MediaType() string {
	if f == FormatP12 {
		return "application/x-pkcs12"
	}
	return "application/x-x509-ca-cert"
}

// EncodeCertificate writes cert in format f. It takes a certificate, not a
// CA, so no caller can hand it a key by mistake.
func EncodeCertificate(cert *x509.Certificate, f Format) ([]byte, error) {
	switch f {
	case FormatPEM:
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), nil
	case FormatDER:
		return append([]byte(nil), cert.Raw...), nil
	case FormatP12:
		return encodeP12(cert)
	}
	return nil, fmt.Errorf("export certificate: %w %q", ErrUnknownFormat, string(f))
}

// encodeP12 uses go-pkcs12's LegacyDES encoder on purpose: the bundle holds
// only a public certificate, so its encryption protects nothing, while
// macOS Keychain, iOS and older Windows refuse the AES (PBES2) bundles the
// modern encoders write. LegacyDES is also what OpenSSL 3 reads without
// -legacy. The friendly name is the CN, which is what import dialogs show.
func encodeP12(cert *x509.Certificate) ([]byte, error) {
	p12, err := pkcs12.LegacyDES.EncodeTrustStoreEntries([]pkcs12.TrustStoreEntry{{
		Cert:         cert,
		FriendlyName: cert.Subject.CommonName,
	}}, "")
	if err != nil {
		return nil, fmt.Errorf("export certificate as PKCS#12: %w", err)
	}
	return p12, nil
}

// Export writes the CA certificate (never the key) in format f.
func (ca *CA) Export(f Format) ([]byte, error) { return EncodeCertificate(ca.Cert, f) }

// P12 is the CA certificate as a PKCS#12 bundle with an empty password and
// no key.
func (ca *CA) P12() ([]byte, error) { return encodeP12(ca.Cert) }
