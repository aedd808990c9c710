package har_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A compact checker for the HAR 1.2 spec
// (http://www.softwareishard.com/blog/har-12-spec/): every object's
// required fields and the type of every field, no unknown fields except
// "_" extensions, and the rules the spec states in prose.

type kind int

const (
	kString kind = iota
	kNumber
	kInteger
	kBool
	kObject // of names the object's schema
	kArray  // of names the element's schema, or a kind for scalars
)

type field struct {
	kind     kind
	required bool
	of       string
}

func req(k kind, of ...string) field { return field{kind: k, required: true, of: strings.Join(of, "")} }
func opt(k kind, of ...string) field { return field{kind: k, of: strings.Join(of, "")} }

var harSchema = map[string]map[string]field{
	"har": {"log": req(kObject, "log")},
	"log": {
		"version": req(kString), "creator": req(kObject, "creator"), "browser": opt(kObject, "creator"),
		"pages": opt(kArray, "page"), "entries": req(kArray, "entry"), "comment": opt(kString),
	},
	"creator": {"name": req(kString), "version": req(kString), "comment": opt(kString)},
	"page": {
		"startedDateTime": req(kString), "id": req(kString), "title": req(kString),
		"pageTimings": req(kObject, "pageTimings"), "comment": opt(kString),
	},
	"pageTimings": {"onContentLoad": opt(kNumber), "onLoad": opt(kNumber), "comment": opt(kString)},
	"entry": {
		"pageref": opt(kString), "startedDateTime": req(kString), "time": req(kNumber),
		"request": req(kObject, "request"), "response": req(kObject, "response"), "cache": req(kObject, "cache"),
		"timings": req(kObject, "timings"), "serverIPAddress": opt(kString), "connection": opt(kString), "comment": opt(kString),
	},
	"request": {
		"method": req(kString), "url": req(kString), "httpVersion": req(kString),
		"cookies": req(kArray, "cookie"), "headers": req(kArray, "nameValue"), "queryString": req(kArray, "nameValue"),
		"postData": opt(kObject, "postData"), "headersSize": req(kInteger), "bodySize": req(kInteger), "comment": opt(kString),
	},
	"response": {
		"status": req(kInteger), "statusText": req(kString), "httpVersion": req(kString),
		"cookies": req(kArray, "cookie"), "headers": req(kArray, "nameValue"), "content": req(kObject, "content"),
		"redirectURL": req(kString), "headersSize": req(kInteger), "bodySize": req(kInteger), "comment": opt(kString),
	},
	"cookie": {
		"name": req(kString), "value": req(kString), "path": opt(kString), "domain": opt(kString),
		"expires": opt(kString), "httpOnly": opt(kBool), "secure": opt(kBool), "comment": opt(kString),
	},
	"nameValue": {"name": req(kString), "value": req(kString), "comment": opt(kString)},
	"postData":  {"mimeType": req(kString), "params": opt(kArray, "param"), "text": opt(kString), "comment": opt(kString)},
	"param":     {"name": req(kString), "value": opt(kString), "fileName": opt(kString), "contentType": opt(kString), "comment": opt(kString)},
	"content": {
		"size": req(kInteger), "compression": opt(kInteger), "mimeType": req(kString),
		"text": opt(kString), "encoding": opt(kString), "comment": opt(kString),
	},
	"cache":      {"beforeRequest": opt(kObject, "cacheEntry"), "afterRequest": opt(kObject, "cacheEntry"), "comment": opt(kString)},
	"cacheEntry": {"expires": opt(kString), "lastAccess": req(kString), "eTag": req(kString), "hitCount": req(kInteger), "comment": opt(kString)},
	"timings": {
		"blocked": opt(kNumber), "dns": opt(kNumber), "connect": opt(kNumber),
		"send": req(kNumber), "wait": req(kNumber), "receive": req(kNumber), "ssl": opt(kNumber), "comment": opt(kString),
	},
}

// iso8601 is the date-time form HAR requires (the pattern of the
// community HAR schema).
var iso8601 = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$`)

// validateHAR returns every way data breaks HAR 1.2, each with its path.
func validateHAR(data []byte) []string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return []string{"not JSON: " + err.Error()}
	}
	var errs []string
	checkObject(v, "har", "", &errs)
	if len(errs) == 0 {
		checkRules(v.(map[string]any)["log"].(map[string]any), &errs)
	}
	return errs
}

func checkObject(v any, schema, path string, errs *[]string) {
	obj, ok := v.(map[string]any)
	if !ok {
		*errs = append(*errs, fmt.Sprintf("%s: want an object, found %T", path, v))
		return
	}
	fields := harSchema[schema]
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := fields[name]
		val, present := obj[name]
		p := strings.TrimPrefix(path+"."+name, ".")
		switch {
		case !present && f.required:
			*errs = append(*errs, p+": required field missing")
		case present:
			checkValue(val, f, p, errs)
		}
	}
	for name := range obj {
		if _, known := fields[name]; !known && !strings.HasPrefix(name, "_") {
			*errs = append(*errs, fmt.Sprintf("%s.%s: not a HAR 1.2 field (extensions start with _)", path, name))
		}
	}
}

func checkValue(v any, f field, path string, errs *[]string) {
	bad := func(want string) { *errs = append(*errs, fmt.Sprintf("%s: want %s, found %T %v", path, want, v, v)) }
	switch f.kind {
	case kString:
		if _, ok := v.(string); !ok {
			bad("a string")
		}
	case kNumber:
		if _, ok := v.(float64); !ok {
			bad("a number")
		}
	case kInteger:
		if n, ok := v.(float64); !ok || n != math.Trunc(n) {
			bad("an integer")
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			bad("a boolean")
		}
	case kObject:
		checkObject(v, f.of, path, errs)
	case kArray:
		arr, ok := v.([]any)
		if !ok {
			bad("an array")
			return
		}
		for i, el := range arr {
			checkObject(el, f.of, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	}
}

// checkRules: what the spec says in prose.
func checkRules(log map[string]any, errs *[]string) {
	add := func(format string, args ...any) { *errs = append(*errs, fmt.Sprintf(format, args...)) }
	if log["version"] != "1.2" {
		add("log.version: %v, want 1.2", log["version"])
	}
	for i, ev := range log["entries"].([]any) {
		e := ev.(map[string]any)
		p := fmt.Sprintf("log.entries[%d]", i)
		if s := e["startedDateTime"].(string); !iso8601.MatchString(s) {
			add("%s.startedDateTime: %q is not ISO 8601", p, s)
		}
		tm := e["timings"].(map[string]any)
		sum := 0.0
		for _, name := range []string{"blocked", "dns", "connect", "send", "wait", "receive", "ssl"} {
			n, ok := tm[name].(float64)
			switch {
			case !ok:
			case name == "send" || name == "wait" || name == "receive":
				if n < 0 {
					add("%s.timings.%s: %v, must not be negative", p, name, n)
				}
			case n < -1:
				add("%s.timings.%s: %v, want -1 or more", p, name, n)
			}
			if ok && n > 0 && name != "ssl" { // ssl is part of connect
				sum += n
			}
		}
		if ssl, ok := tm["ssl"].(float64); ok && ssl >= 0 {
			if c, _ := tm["connect"].(float64); ssl > c {
				add("%s.timings.ssl %v is more than connect %v, which includes it", p, ssl, c)
			}
		}
		if t := e["time"].(float64); math.Abs(t-sum) > 0.001 {
			add("%s.time: %v, want the sum of the timings %v", p, t, sum)
		}
		for _, side := range []string{"request", "response"} {
			m := e[side].(map[string]any)
			for _, sz := range []string{"headersSize", "bodySize"} {
				if n := m[sz].(float64); n < -1 {
					add("%s.%s.%s: %v, want -1 or more", p, side, sz, n)
				}
			}
		}
		c := e["response"].(map[string]any)["content"].(map[string]any)
		if enc, ok := c["encoding"]; ok {
			if enc != "base64" {
				add("%s.response.content.encoding: %v", p, enc)
			} else if _, err := base64.StdEncoding.DecodeString(c["text"].(string)); err != nil {
				add("%s.response.content.text: not base64: %v", p, err)
			}
		}
		for _, ck := range append(e["request"].(map[string]any)["cookies"].([]any), e["response"].(map[string]any)["cookies"].([]any)...) {
			if exp, ok := ck.(map[string]any)["expires"].(string); ok && !iso8601.MatchString(exp) {
				add("%s: cookie expires %q is not ISO 8601", p, exp)
			}
		}
	}
}

// TestSchemaCheckerCatches: the checker is not vacuous.
func TestSchemaCheckerCatches(t *testing.T) {
	good := `{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-01-02T15:04:05.000Z","time":3,
		"request":{"method":"GET","url":"http://x/","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},
		"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":""},"redirectURL":"","headersSize":-1,"bodySize":0},
		"cache":{},"timings":{"send":1,"wait":1,"receive":1},"_ext":1}]}}`
	if errs := validateHAR([]byte(good)); len(errs) != 0 {
		t.Fatalf("minimal valid HAR rejected: %v", errs)
	}
	tests := []struct{ from, to, want string }{
		{`"version":"1.2",`, ``, "log.version: required field missing"},
		{`"cache":{},`, ``, "log.entries[0].cache: required field missing"},
		{`"status":200`, `"status":"200"`, "log.entries[0].response.status: want an integer"},
		{`"bodySize":0}`, `"bodySize":0.5}`, "log.entries[0].request.bodySize: want an integer"},
		{`"time":3`, `"time":4`, "log.entries[0].time: 4, want the sum of the timings 3"},
		{`"send":1`, `"send":-1`, "timings.send: -1, must not be negative"},
		{`"2026-01-02T15:04:05.000Z"`, `"2026-01-02 15:04"`, "is not ISO 8601"},
		{`"_ext":1`, `"ext":1`, "log.entries[0].ext: not a HAR 1.2 field"},
		{`"queryString":[]`, `"queryString":[{"name":"a"}]`, "queryString[0].value: required field missing"},
		{`"content":{"size":0,"mimeType":""}`, `"content":{"size":0,"mimeType":"","text":"%%","encoding":"base64"}`, "content.text: not base64"},
	}
	for _, tt := range tests {
		bad := strings.Replace(good, tt.from, tt.to, 1)
		errs := validateHAR([]byte(bad))
		if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
			t.Errorf("after %s → %s: errors %q, want one containing %q", tt.from, tt.to, errs, tt.want)
		}
	}
}
