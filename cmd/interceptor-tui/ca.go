package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
	"github.com/interceptor-tui/interceptor-tui/certs/installpage"
	"github.com/interceptor-tui/interceptor-tui/certs/truststore"
)

// Seams for tests that run the ca commands in process.
var (
	geteuid     = os.Geteuid
	debianStore = truststore.DefaultDebian()
)

// caIO is what every ca subcommand reads and writes.
type caIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type caCommand struct {
	name, args, help string
	run              func(ctx context.Context, std caIO, args []string) error
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

func caCommands() []caCommand {
	return []caCommand{
		{"path", "", "where the certificate and the key are", caPath},
		{"show", "", "subject, fingerprints, validity and how to trust it here", caShow},
		{"export", "[--format pem|der|p12] [-o FILE]", "write the certificate (never the key); the format follows FILE's extension", caExport},
		{"install", "--nss [DIR] | --system", "trust it in an NSS database (default ~/.pki/nssdb, or a Firefox profile) or the system store", caInstall},
		{"uninstall", "--nss [DIR] | --system", "the reverse of install", caUninstall},
		{"regenerate", "[--yes]", "replace the CA with a new one (asks first)", caRegenerate},
		{"doctor", "[--listen ADDR]", "explain what stands between this machine and intercepted HTTPS", caDoctor},
	}
}

func caUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: interceptor-tui ca <command> [--confdir DIR] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range caCommands() {
		fmt.Fprintf(w, "  %-11s %-34s %s\n", c.name, c.args, c.help)
	}
	fmt.Fprintln(w, "\nDevices can also fetch the certificate through the proxy at http://interceptor.tui/.")
}

func runCA(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		caUsage(stdout)
		return 0
	}
	for _, c := range caCommands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, caIO{stdin, stdout, stderr}, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, errHelp):
			return 0
		case errors.As(err, new(*usageError)):
			fmt.Fprintf(stderr, "interceptor-tui ca %s: %v\n", c.name, err)
			fmt.Fprintf(stderr, "usage: interceptor-tui ca %s %s [--confdir DIR]\n", c.name, c.args)
			return 2
		default:
			fmt.Fprintf(stderr, "interceptor-tui ca %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "interceptor-tui ca: unknown command %q\n\n", args[0])
	caUsage(stderr)
	return 2
}

// caFlagSet has the flag every ca command shares.
func caFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	return confFlagSet("interceptor-tui ca "+name, stderr)
}

// confFlagSet is a flag set with --confdir.
func confFlagSet(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("confdir", "", "configuration `directory` holding the CA (default $INTERCEPTOR_TUI_HOME or ~/.interceptor-tui)")
	return fs, dir
}

// parseInterspersed parses flags that may come after positional
// arguments too (`install --nss DIR --confdir X`), which flag.Parse
// alone stops at. Mistakes come back as usage errors for the caller to
// print once; -h prints the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	out := fs.Output()
	fs.SetOutput(io.Discard)
	defer fs.SetOutput(out)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(out)
				fs.Usage()
				return nil, errHelp
			}
			return nil, usageErrorf("%v", err)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil // "--" ends the flags for good
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func noArgs(pos []string) error {
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q", pos[0])
	}
	return nil
}

// openCA loads the CA, creating one as the proxy would.
func openCA(confdir string, stderr io.Writer) (*certs.CA, error) {
	dir, err := confDir(confdir)
	if err != nil {
		return nil, err
	}
	return loadCA(dir, stderr)
}

// loadExistingCA loads the CA without creating one: there is nothing to
// uninstall or diagnose about a CA that does not exist yet.
func loadExistingCA(confdir string) (*certs.CA, string, error) {
	dir, err := confDir(confdir)
	if err != nil {
		return nil, "", err
	}
	ca, err := certs.Load(dir)
	return ca, dir, err
}

func caPath(_ context.Context, std caIO, args []string) error {
	fs, confdir := caFlagSet("path", std.stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	ca, err := openCA(*confdir, std.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.stdout, "certificate: %s\nkey:         %s\n", ca.CertPath(), ca.KeyPath())
	return nil
}

func caShow(_ context.Context, std caIO, args []string) error {
	fs, confdir := caFlagSet("show", std.stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	ca, err := openCA(*confdir, std.stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.stdout, "subject: %s\nSHA-256: %s\nSHA-1:   %s\nvalid:   %s to %s\nfile:    %s\ninstall: %s\n",
		ca.Cert.Subject, ca.FingerprintSHA256(), ca.FingerprintSHA1(),
		ca.Cert.NotBefore.Format(time.DateOnly), ca.Cert.NotAfter.Format(time.DateOnly),
		ca.CertPath(), installHint(runtime.GOOS, ca))
	return nil
}

// confFlag is --confdir naming dir, for the commands hints print: followed
// without it, a hint would make and trust another CA than the one in use
// (sudo resets HOME, a shell may lack $INTERCEPTOR_TUI_HOME).
func confFlag(dir string) string { return "--confdir " + truststore.ShellQuote(absDir(dir)) }

// installHint is the one line that gets this machine to trust the CA.
func installHint(goos string, ca *certs.CA) string {
	switch goos {
	case "linux":
		c := confFlag(ca.Dir)
		return "interceptor-tui ca install --nss " + c + " (Chrome, Chromium; give a profile directory for Firefox), sudo interceptor-tui ca install --system " + c + " (curl and most tools)"
	case "darwin", "windows":
		return truststore.ManualCommands(goos, ca.CertPath(), derPath(ca), ca.Cert).Install[0]
	}
	return "add " + ca.CertPath() + " to the system's trusted authorities, or visit http://interceptor.tui/ through the proxy"
}

// derPath is where `ca export --format der` would write next to ca.pem,
// for commands that want a .cer.
func derPath(ca *certs.CA) string {
	return filepath.Join(ca.Dir, certs.FormatDER.FileName())
}

func caExport(_ context.Context, std caIO, args []string) error {
	fs, confdir := caFlagSet("export", std.stderr)
	format := fs.String("format", "", "pem, der (.cer/.crt) or p12 (PKCS#12, certificate only, empty password); default: from -o's extension, else pem")
	var out string
	fs.StringVar(&out, "o", "", "write to `file` instead of standard output")
	fs.StringVar(&out, "output", "", "same as -o")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	f := certs.FormatPEM
	switch {
	case *format != "":
		if f, err = certs.ParseFormat(*format); err != nil {
			return usageErrorf("%v", err)
		}
	case out != "" && out != "-":
		if g, ok := certs.FormatOfFile(out); ok {
			f = g
		}
	}
	ca, err := openCA(*confdir, std.stderr)
	if err != nil {
		return err
	}
	data, err := ca.Export(f)
	if err != nil {
		return err
	}
	if out == "" || out == "-" {
		if f != certs.FormatPEM && isTerminal(std.stdout) {
			return usageErrorf("%s is binary; write it to a file with -o %s", f, f.FileName())
		}
		_, err = std.stdout.Write(data)
		return err
	}
	// The certificate is public; 0644 lets other users and tools read it.
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(std.stderr, "wrote %s (%s, certificate only)\n", out, f)
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// nssFlag is --nss or --nss=DIR: a bool flag that may carry a directory.
type nssFlag struct {
	set bool
	dir string
}

func (n *nssFlag) String() string   { return n.dir }
func (n *nssFlag) IsBoolFlag() bool { return true }
func (n *nssFlag) Set(v string) error {
	n.set = true
	switch v {
	case "true":
	case "false":
		n.set = false
	default:
		n.dir = v
	}
	return nil
}

// storeFlags parses install's and uninstall's command line.
func storeFlags(name string, std caIO, args []string) (nss *nssFlag, system bool, confdir string, err error) {
	fs, dir := caFlagSet(name, std.stderr)
	nss = &nssFlag{}
	fs.Var(nss, "nss", "an NSS database: `DIR` if given (a Firefox profile, say), else ~/.pki/nssdb (Chromium, Chrome)")
	sys := fs.Bool("system", false, "the system store (Debian/Ubuntu; elsewhere prints the commands)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, false, "", err
	}
	if len(pos) > 0 {
		if !nss.set || nss.dir != "" || len(pos) > 1 {
			return nil, false, "", usageErrorf("unexpected argument %q", pos[len(pos)-1])
		}
		nss.dir = pos[0]
	}
	if !nss.set && !*sys {
		return nil, false, "", usageErrorf("say where: --nss [DIR] (browsers on Linux) or --system")
	}
	if nss.set && nss.dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, false, "", fmt.Errorf("find ~/.pki/nssdb: %w; give the directory: --nss DIR", err)
		}
		nss.dir = truststore.DefaultNSSDir(home)
	}
	return nss, *sys, *dir, nil
}

func caInstall(ctx context.Context, std caIO, args []string) error {
	nss, system, confdir, err := storeFlags("install", std, args)
	if err != nil {
		return err
	}
	ca, err := openCA(confdir, std.stderr)
	if err != nil {
		return err
	}
	if nss.set {
		db := truststore.NSS{Dir: nss.dir}
		created, err := db.Install(ctx, ca.Cert)
		if created {
			fmt.Fprintf(std.stdout, "created NSS database %s\n", nss.dir)
		}
		if err != nil {
			return fmt.Errorf("install into %s: %w", nss.dir, err)
		}
		fmt.Fprintf(std.stdout, "trusted %q in %s to identify websites\n", truststore.Nickname(ca.Cert), nss.dir)
		fmt.Fprintln(std.stdout, "restart the browser that uses it")
	}
	if system {
		return installSystem(ctx, std, ca)
	}
	return nil
}

func installSystem(ctx context.Context, std caIO, ca *certs.CA) error {
	if runtime.GOOS != "linux" || !debianStore.Available() {
		printManual(std.stdout, ca, true)
		return nil
	}
	if geteuid() != 0 {
		return needRoot("install", ca)
	}
	if err := debianStore.Install(ctx, ca.Cert); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return needRoot("install", ca)
		}
		return err
	}
	fmt.Fprintf(std.stdout, "copied the certificate to %s and ran update-ca-certificates\n", debianStore.Path())
	fmt.Fprintln(std.stdout, "curl, OpenSSL, Go and most tools trust it now; Chromium and Firefox do not read this store: use interceptor-tui ca install --nss "+confFlag(ca.Dir))
	return nil
}

// needRoot names the exact command, with the config directory spelled
// out: sudo resets HOME and INTERCEPTOR_TUI_HOME, and would otherwise
// find (or make) root's CA instead of this one.
func needRoot(verb string, ca *certs.CA) error {
	return fmt.Errorf("changing the system store needs root; run: sudo interceptor-tui ca %s --system %s", verb, confFlag(ca.Dir))
}

func printManual(w io.Writer, ca *certs.CA, install bool) {
	cmds := truststore.ManualCommands(runtime.GOOS, ca.CertPath(), derPath(ca), ca.Cert)
	lines := cmds.Uninstall
	if install {
		lines = cmds.Install
	}
	fmt.Fprintf(w, "interceptor-tui does not change the system store on %s itself; run:\n", cmds.System)
	if runtime.GOOS == "windows" {
		fmt.Fprintf(w, "  interceptor-tui ca export -o %s\n", derPath(ca))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
}

func caUninstall(ctx context.Context, std caIO, args []string) error {
	nss, system, confdir, err := storeFlags("uninstall", std, args)
	if err != nil {
		return err
	}
	ca, _, err := loadExistingCA(confdir)
	if err != nil {
		return err
	}
	if nss.set {
		removed, err := truststore.NSS{Dir: nss.dir}.Uninstall(ctx, ca.Cert)
		if err != nil {
			return fmt.Errorf("uninstall from %s: %w", nss.dir, err)
		}
		if removed {
			fmt.Fprintf(std.stdout, "removed %q from %s\n", truststore.Nickname(ca.Cert), nss.dir)
		} else {
			fmt.Fprintf(std.stdout, "%q was not in %s\n", truststore.Nickname(ca.Cert), nss.dir)
		}
	}
	if !system {
		return nil
	}
	if runtime.GOOS != "linux" || !debianStore.Available() {
		printManual(std.stdout, ca, false)
		return nil
	}
	if geteuid() != 0 {
		return needRoot("uninstall", ca)
	}
	removed, err := debianStore.Uninstall(ctx)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return needRoot("uninstall", ca)
	case err != nil:
		return err
	case removed:
		fmt.Fprintf(std.stdout, "removed %s and ran update-ca-certificates --fresh\n", debianStore.Path())
	default:
		fmt.Fprintf(std.stdout, "%s was not there\n", debianStore.Path())
	}
	return nil
}

func caRegenerate(ctx context.Context, std caIO, args []string) error {
	fs, confdir := caFlagSet("regenerate", std.stderr)
	yes := fs.Bool("yes", false, "do not ask")
	fs.BoolVar(yes, "y", false, "same as --yes")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(pos); err != nil {
		return err
	}
	old, dir, err := loadExistingCA(*confdir)
	switch {
	case dir == "":
		return err
	case errors.Is(err, certs.ErrNoCA):
		*yes = true // nothing to lose, nothing to ask
	case err != nil:
		// A broken CA is a reason to regenerate; say what is replaced.
		fmt.Fprintf(std.stderr, "the current CA does not load: %v\n", err)
	}
	if !*yes {
		fmt.Fprintf(std.stderr, "Replace the CA in %s with a new one? Every browser and device that trusts the old one\n"+
			"will reject the proxy until you install the new one. [y/N] ", dir)
		line, _ := bufio.NewReader(std.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(std.stderr)
			return errors.New("not regenerated")
		}
	}
	var trustedIn []string
	if old != nil {
		trustedIn = whereTrusted(ctx, old)
	}
	ca, err := certs.Create(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(std.stdout, "new CA in %s\nSHA-256: %s\n", dir, ca.FingerprintSHA256())
	fmt.Fprintf(std.stdout, "restart a running interceptor-tui to use it, then install it again (interceptor-tui ca install --nss %s, or http://interceptor.tui/)\n", confFlag(dir))
	for _, w := range trustedIn {
		fmt.Fprintf(std.stdout, "the old CA is still trusted in %s\n", w)
	}
	return nil
}

// whereTrusted lists the places this machine still trusts ca, each with
// the command that removes it, for after ca is replaced (uninstall will
// then only know the new one).
func whereTrusted(ctx context.Context, ca *certs.CA) []string {
	var out []string
	home, err := os.UserHomeDir()
	if err == nil {
		dbs := append([]string{truststore.DefaultNSSDir(home)}, truststore.FirefoxProfiles(home)...)
		for _, dir := range dbs {
			st, err := truststore.NSS{Dir: dir}.Status(ctx, ca.Cert)
			if err == nil && st.Present {
				out = append(out, fmt.Sprintf("%s; remove it: certutil -D -d sql:%s -n %s", dir, truststore.ShellQuote(dir), truststore.ShellQuote(truststore.Nickname(ca.Cert))))
			}
		}
	}
	if runtime.GOOS == "linux" && debianStore.Status(ca.Cert).FileInstalled {
		out = append(out, fmt.Sprintf("the system store; remove it: sudo rm %s && sudo update-ca-certificates --fresh", debianStore.Path()))
	}
	return out
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// installPage is what the proxy answers for http://interceptor.tui/.
func installPage(ca *certs.CA) http.Handler { return installpage.New(ca) }
