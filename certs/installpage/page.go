package installpage

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/interceptor-tui/interceptor-tui/certs"
)

// Paths of the downloads, one per format.
const (
	PathPEM = "/cert/pem"
	PathDER = "/cert/der"
	PathP12 = "/cert/p12"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// download is one certificate file, encoded once.
type download struct {
	format certs.Format
	body   []byte
	err    error // encoding failed: the path answers 500 with it
}

// handler holds the page and the certificate bytes, and nothing else: no
// CA, no key, no directory.
type handler struct {
	page      []byte
	notFound  []byte
	downloads map[string]download
}

// New returns the handler for every path under http://interceptor.tui/.
// It encodes ca's certificate once, in every format, and keeps no
// reference to ca: its key never reaches the handler.
func New(ca *certs.CA) http.Handler {
	cert := ca.Cert
	h := &handler{downloads: map[string]download{}}
	for path, f := range map[string]certs.Format{PathPEM: certs.FormatPEM, PathDER: certs.FormatDER, PathP12: certs.FormatP12} {
		body, err := certs.EncodeCertificate(cert, f)
		h.downloads[path] = download{format: f, body: body, err: err}
	}
	data := pageData{
		Subject:   cert.Subject.CommonName,
		SHA256:    ca.FingerprintSHA256(),
		SHA1:      ca.FingerprintSHA1(),
		NotAfter:  cert.NotAfter.UTC().Format(time.DateOnly),
		PEM:       PathPEM,
		DER:       PathDER,
		P12:       PathP12,
		PEMName:   certs.FormatPEM.FileName(),
		DERName:   certs.FormatDER.FileName(),
		P12Name:   certs.FormatP12.FileName(),
		ProxyHost: "interceptor.tui",
	}
	h.page = render(data)
	data.NotFound = true
	h.notFound = render(data)
	return h
}

type pageData struct {
	Subject, SHA256, SHA1, NotAfter string
	PEM, DER, P12                   string
	PEMName, DERName, P12Name       string
	ProxyHost                       string
	NotFound                        bool
}

func render(d pageData) []byte {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, d); err != nil {
		// The template is fixed and the data are plain strings: a failure
		// here is a bug that the tests catch.
		panic(fmt.Sprintf("installpage: render: %v", err))
	}
	return buf.Bytes()
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	// The CA can be regenerated: never let a cache keep an old one.
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "interceptor-tui: only GET and HEAD here", http.StatusMethodNotAllowed)
		return
	}
	// Exact matches only: there is no file system behind these paths, so
	// "..", encoded dots and doubled slashes simply match nothing.
	if d, ok := h.downloads[r.URL.Path]; ok {
		h.serveDownload(w, r, d)
		return
	}
	status, body := http.StatusOK, h.page
	if r.URL.Path != "/" && r.URL.Path != "/index.html" {
		status, body = http.StatusNotFound, h.notFound
	}
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	// No scripts, no outside resources; inline styles only.
	hdr.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func (h *handler) serveDownload(w http.ResponseWriter, r *http.Request, d download) {
	if d.err != nil {
		http.Error(w, "interceptor-tui: "+d.err.Error(), http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", d.format.MediaType())
	hdr.Set("Content-Disposition", `attachment; filename="`+d.format.FileName()+`"`)
	hdr.Set("Content-Length", strconv.Itoa(len(d.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(d.body)
	}
}
