package truststore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// NicknamePrefix starts the nickname of every CA this tool adds to an NSS
// database, so earlier CAs (from before a regenerate) can be recognised.
const NicknamePrefix = "interceptor-tui CA ("

// ErrNoCertutil: NSS's certutil is not installed.
var ErrNoCertutil = errors.New("certutil not found: install Debian/Ubuntu package libnss3-tools (Fedora: nss-tools, Arch: nss, macOS: brew install nss)")

// Nickname names cert in an NSS database. The fingerprint prefix tells two
// of our CAs apart; it is hex without colons because certutil reads
// "token:name" in a nickname as a token name.
func Nickname(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return NicknamePrefix + strings.ToUpper(hex.EncodeToString(sum[:4])) + ")"
}

// DefaultNSSDir is the database Chromium and Chrome read on Linux.
func DefaultNSSDir(home string) string { return filepath.Join(home, ".pki", "nssdb") }

// FirefoxProfiles finds Firefox profile directories under home that hold an
// NSS database: the usual place, snap and flatpak installs, and macOS.
func FirefoxProfiles(home string) []string {
	var dirs []string
	for _, root := range []string{
		filepath.Join(home, ".mozilla", "firefox"),
		filepath.Join(home, "snap", "firefox", "common", ".mozilla", "firefox"),
		filepath.Join(home, ".var", "app", "org.mozilla.firefox", ".mozilla", "firefox"),
		filepath.Join(home, "Library", "Application Support", "Firefox", "Profiles"),
	} {
		matches, _ := filepath.Glob(filepath.Join(root, "*", "cert9.db"))
		for _, m := range matches {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	return dirs
}

// NSS is one NSS database directory: ~/.pki/nssdb or a Firefox profile.
type NSS struct {
	Dir string
	// Certutil is the certutil program; empty finds it on PATH.
	Certutil string
}

// Entry is one certificate listed in an NSS database.
type Entry struct {
	Nickname string
	Trust    string // e.g. "C,," or "CT,C,C": SSL, S/MIME, code signing
}

// TrustedForTLS reports whether the entry may issue website certificates.
func (e Entry) TrustedForTLS() bool {
	ssl, _, _ := strings.Cut(e.Trust, ",")
	return strings.ContainsAny(ssl, "C")
}

// NSSStatus is what an NSS database holds of ours.
type NSSStatus struct {
	Present bool // the certificate is in the database under its nickname
	Trusted bool // and trusted to identify websites
	// Others are nicknames of other interceptor-tui CAs, left from before a
	// regenerate or from another config directory.
	Others []string
}

// Exists reports whether Dir holds an NSS (sql) database.
func (n NSS) Exists() bool {
	_, err := os.Stat(filepath.Join(n.Dir, "cert9.db"))
	return err == nil
}

func (n NSS) db() string { return "sql:" + n.Dir }

// Install adds cert to the database, trusted to identify websites,
// creating the directory and an empty-password database if there is none.
// created says whether it made the database. Adding a certificate that is
// already there only sets its trust again.
func (n NSS) Install(ctx context.Context, cert *x509.Certificate) (created bool, err error) {
	if _, err := n.certutil(); err != nil {
		return false, err
	}
	if !n.Exists() {
		if err := os.MkdirAll(n.Dir, 0o700); err != nil {
			return false, fmt.Errorf("create NSS database: %w", err)
		}
		if _, err := n.run(ctx, nil, "-N", "-d", n.db(), "--empty-password"); err != nil {
			return false, err
		}
		created = true
	}
	// certutil reads the certificate from stdin when -i is not given; DER
	// needs no temp file and no guessing about encodings.
	if _, err := n.run(ctx, cert.Raw, "-A", "-d", n.db(), "-t", "C,,", "-n", Nickname(cert)); err != nil {
		return created, err
	}
	st, err := n.Status(ctx, cert)
	if err != nil {
		return created, err
	}
	if !st.Present || !st.Trusted {
		return created, fmt.Errorf("certutil added %q to %s but it is not listed as trusted afterwards", Nickname(cert), n.Dir)
	}
	return created, nil
}

// Uninstall deletes cert from the database by its nickname. removed is
// false when it was not there. A missing database holds nothing to remove.
func (n NSS) Uninstall(ctx context.Context, cert *x509.Certificate) (removed bool, err error) {
	if !n.Exists() {
		return false, nil
	}
	// A nickname can have been added more than once; certutil deletes one
	// certificate per call. The bound only guards against a certutil that
	// reports success without deleting.
	for range 16 {
		st, err := n.Status(ctx, cert)
		if err != nil || !st.Present {
			return removed, err
		}
		if _, err := n.run(ctx, nil, "-D", "-d", n.db(), "-n", Nickname(cert)); err != nil {
			return removed, err
		}
		removed = true
	}
	return removed, fmt.Errorf("certutil keeps listing %q in %s after deleting it", Nickname(cert), n.Dir)
}

// Status says whether cert is in the database and trusted. A missing
// database is an empty one.
func (n NSS) Status(ctx context.Context, cert *x509.Certificate) (NSSStatus, error) {
	var st NSSStatus
	if !n.Exists() {
		if _, err := n.certutil(); err != nil {
			return st, err
		}
		return st, nil
	}
	entries, err := n.List(ctx)
	if err != nil {
		return st, err
	}
	nick := Nickname(cert)
	for _, e := range entries {
		switch {
		case e.Nickname == nick:
			// The nickname carries 32 bits of the fingerprint; compare
			// the certificate itself before saying it is ours.
			der, err := n.run(ctx, nil, "-L", "-d", n.db(), "-n", nick, "-r")
			if err != nil {
				return st, err
			}
			if bytes.Equal(der, cert.Raw) {
				st.Present = true
				st.Trusted = st.Trusted || e.TrustedForTLS()
			}
		case strings.HasPrefix(e.Nickname, NicknamePrefix):
			st.Others = append(st.Others, e.Nickname)
		}
	}
	return st, nil
}

// trustField is certutil's trust column: three comma-separated flag sets.
var trustField = regexp.MustCompile(`^[pPcCTuwkesvi]*,[pPcCTuwkesvi]*,[pPcCTuwkesvi]*$`)

// List returns every certificate in the database.
func (n NSS) List(ctx context.Context) ([]Entry, error) {
	out, err := n.run(ctx, nil, "-L", "-d", n.db())
	if err != nil {
		return nil, err
	}
	return parseList(string(out)), nil
}

// parseList reads `certutil -L`: a header, then one line per certificate
// with the nickname padded to a column and the trust flags last.
func parseList(out string) []Entry {
	var entries []Entry
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " \t\r")
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			continue
		}
		trust, nick := line[i+1:], strings.TrimSpace(line[:i])
		if nick == "" || !trustField.MatchString(trust) {
			continue // the header lines
		}
		entries = append(entries, Entry{Nickname: nick, Trust: trust})
	}
	return entries
}

func (n NSS) certutil() (string, error) {
	if n.Certutil != "" {
		return n.Certutil, nil
	}
	path, err := exec.LookPath("certutil")
	if err != nil {
		return "", ErrNoCertutil
	}
	return path, nil
}

func (n NSS) run(ctx context.Context, stdin []byte, args ...string) ([]byte, error) {
	bin, err := n.certutil()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		return nil, fmt.Errorf("certutil %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return out, nil
}
