package truststore

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// DebianFile is the name our certificate gets in the Debian store.
const DebianFile = "interceptor-tui.crt"

// Debian is the Debian/Ubuntu system store: certificates in Dir that
// update-ca-certificates merges into Bundle, which OpenSSL, curl, Go and
// most tools read. Chromium and Firefox on Linux do not read it.
type Debian struct {
	Dir    string // /usr/local/share/ca-certificates
	Bundle string // /etc/ssl/certs/ca-certificates.crt
	// Update is update-ca-certificates; empty finds it on PATH.
	Update string
}

// DefaultDebian is the store on a Debian or Ubuntu machine.
func DefaultDebian() Debian {
	return Debian{Dir: "/usr/local/share/ca-certificates", Bundle: "/etc/ssl/certs/ca-certificates.crt"}
}

// Path is where Install puts the certificate.
func (d Debian) Path() string { return filepath.Join(d.Dir, DebianFile) }

// Available reports whether this machine has the store: its directory and
// update-ca-certificates.
func (d Debian) Available() bool {
	if fi, err := os.Stat(d.Dir); err != nil || !fi.IsDir() {
		return false
	}
	_, err := d.update()
	return err == nil
}

func (d Debian) update() (string, error) {
	if d.Update != "" {
		return d.Update, nil
	}
	path, err := exec.LookPath("update-ca-certificates")
	if err != nil {
		return "", errors.New("update-ca-certificates not found: install Debian/Ubuntu package ca-certificates")
	}
	return path, nil
}

// Install writes cert to Path (PEM, as update-ca-certificates wants, with
// the .crt name it looks for) and runs update-ca-certificates. Without
// write access the error wraps fs.ErrPermission.
func (d Debian) Install(ctx context.Context, cert *x509.Certificate) error {
	bin, err := d.update()
	if err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	if err := os.WriteFile(d.Path(), data, 0o644); err != nil {
		return fmt.Errorf("install into the system store: %w", err)
	}
	return runUpdate(ctx, bin)
}

// Uninstall removes Path and runs update-ca-certificates --fresh, which
// rebuilds the bundle without it. removed is false when it was not there.
func (d Debian) Uninstall(ctx context.Context) (removed bool, err error) {
	bin, err := d.update()
	if err != nil {
		return false, err
	}
	switch err := os.Remove(d.Path()); {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("remove from the system store: %w", err)
	}
	return true, runUpdate(ctx, bin, "--fresh")
}

func runUpdate(ctx context.Context, bin string, args ...string) error {
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// DebianStatus is what the Debian store holds of ours.
type DebianStatus struct {
	FileInstalled bool // Path holds this certificate
	InBundle      bool // update-ca-certificates has merged it into Bundle
}

// Status reads Path and Bundle; files it cannot read count as absent.
func (d Debian) Status(cert *x509.Certificate) DebianStatus {
	var st DebianStatus
	if data, err := os.ReadFile(d.Path()); err == nil {
		st.FileInstalled = pemHolds(data, cert)
	}
	if data, err := os.ReadFile(d.Bundle); err == nil {
		st.InBundle = pemHolds(data, cert)
	}
	return st
}

func pemHolds(data []byte, cert *x509.Certificate) bool {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" && bytes.Equal(block.Bytes, cert.Raw) {
			return true
		}
	}
}

// SystemTrusts reports whether the system's roots, as Go sees them
// (SSL_CERT_FILE and SSL_CERT_DIR on Linux, the platform verifier on
// macOS and Windows), accept cert as an authority.
func SystemTrusts(cert *x509.Certificate) bool {
	_, err := cert.Verify(x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// Commands are what a user runs by hand where this package cannot do it.
type Commands struct {
	System    string // which system they are for
	Install   []string
	Uninstall []string
}

// ManualCommands gives the exact commands for goos ("darwin", "windows",
// "linux" for non-Debian distributions) with the certificate at pemPath
// and its DER copy at derPath.
func ManualCommands(goos, pemPath, derPath string, cert *x509.Certificate) Commands {
	cn := cert.Subject.CommonName
	switch goos {
	case "darwin":
		return Commands{
			System:    "macOS",
			Install:   []string{fmt.Sprintf("sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s", ShellQuote(pemPath))},
			Uninstall: []string{fmt.Sprintf("sudo security delete-certificate -c %s -t /Library/Keychains/System.keychain", ShellQuote(cn))},
		}
	case "windows":
		return Commands{
			System:    "Windows",
			Install:   []string{fmt.Sprintf(`certutil -addstore -user Root "%s"`, derPath)},
			Uninstall: []string{fmt.Sprintf(`certutil -delstore -user Root "%s"`, cn)},
		}
	}
	return Commands{
		System: "Linux without update-ca-certificates (Fedora, RHEL, Arch)",
		Install: []string{
			fmt.Sprintf("sudo cp %s /etc/pki/ca-trust/source/anchors/interceptor-tui.pem && sudo update-ca-trust", ShellQuote(pemPath)),
			fmt.Sprintf("or: sudo trust anchor --store %s", ShellQuote(pemPath)),
		},
		Uninstall: []string{
			"sudo rm /etc/pki/ca-trust/source/anchors/interceptor-tui.pem && sudo update-ca-trust",
			fmt.Sprintf("or: sudo trust anchor --remove %s", ShellQuote(pemPath)),
		},
	}
}
