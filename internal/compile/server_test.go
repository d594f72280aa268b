package compile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/testplatform"
)

var validServers = []string{
	"https://api.k8s.corp.local",
	"https://api.k8s.corp.local:6443",
	"https://API.K8s.Corp.Local:1",
	"https://api.k8s.corp.local:65535",
	"https://10.0.0.1:6443",
	"https://[fd00::1]:6443",
	"https://[::ffff:10.0.0.1]",
	"https://gateway.corp.local/k8s/clusters/c-abc12",
	"https://gateway.corp.local:8443/prefix/",
	"https://gateway.corp.local/a@b",
	"https://x",
	"https://0.0.0.0",
	"https://255.255.255.255:6443",
	"https://1.2.3.example",
	"https://0x7f.corp.local",
	"https://123-456.corp.local",
	"https://gw.corp.local/.well-known/x",
	"https://gw.corp.local/a..b/...",
}

var invalidServers = map[string]string{
	"http://api.k8s.corp.local":                   "is not an https URL",
	"HTTPS://api.k8s.corp.local":                  "is not an https URL",
	"https:api.k8s.corp.local":                    "is not an https URL",
	"api.k8s.corp.local:6443":                     "is not an https URL",
	"https://":                                    "has no host",
	"https://:6443":                               "has no host",
	"https:///path":                               "has no host",
	"https://api.k8s.corp.local:":                 "empty port",
	"https://api.k8s.corp.local:0":                "port 0 is not a port",
	"https://api.k8s.corp.local:65536":            "port 65536 is not a port",
	"https://api.k8s.corp.local:70000":            "port 70000 is not a port",
	"https://api.k8s.corp.local:0443":             "port 0443 is not a port",
	"https://api.k8s.corp.local:https":            "is not a valid URL",
	"https://api.k8s.corp.local?x=1":              "has a query",
	"https://api.k8s.corp.local/?":                "has a query",
	"https://api.k8s.corp.local#top":              "has a fragment",
	"https://api.k8s.corp.local/#":                "has a fragment",
	"https://bad_host.corp.local":                 "is not a DNS name or an IP address",
	"https://-api.corp.local":                     "is not a DNS name or an IP address",
	"https://api..corp.local":                     "is not a DNS name or an IP address",
	"https://api.corp.local.":                     "is not a DNS name or an IP address",
	"https://%61pi.corp.local":                    "is not a valid URL",
	"https://[fd00::1%25eth0]":                    "is not an IPv6 address",
	"https://[10.0.0.1]":                          "invalid IP-literal",
	"https://[fd00::zz]":                          "is not",
	"https://api.corp.local/a b":                  "space or a control character",
	"https://999.1.1.1":                           "is not a DNS name or an IP address",
	"https://1.2.3":                               "is not a DNS name or an IP address",
	"https://0x7f.0.0.1":                          "is not a DNS name or an IP address",
	"https://2130706433":                          "is not a DNS name or an IP address",
	"https://010.0.0.1":                           "is not a DNS name or an IP address",
	"https://10.0.0.01:6443":                      "is not a DNS name or an IP address",
	"https://0X7F.1":                              "is not a DNS name or an IP address",
	"https://gw.corp.local/k8s/../c1":             `has a ".." segment`,
	"https://gw.corp.local/..":                    `has a ".." segment`,
	"https://gw.corp.local/./c1":                  `has a "." segment`,
	"https://gw.corp.local/k8s/.":                 `has a "." segment`,
	"https://gw.corp.local/k8s/%2E%2E/c1":         `".." segment`,
	"https://user@api.corp.local":                 "user information",
	"https://user:s3cret-pass@api.corp.local":     "user information",
	"http://user:s3cret-pass@api.corp.local":      "user information",
	"https://user:s3cret-pass@api.corp.local:0?x": "user information",
}

func TestServerProblem(t *testing.T) {
	for _, s := range validServers {
		if msg := serverProblem(s); msg != "" {
			t.Errorf("serverProblem(%q) = %q, want none", s, msg)
		}
	}
	for s, want := range invalidServers {
		msg := serverProblem(s)
		if !strings.Contains(msg, want) {
			t.Errorf("serverProblem(%q) = %q, want it to say %q", s, msg, want)
		}
		if strings.Contains(msg, "s3cret") || strings.Contains(msg, "user@api") {
			t.Errorf("serverProblem(%q) = %q shows the user information", s, msg)
		}
	}
}

func TestServerKey(t *testing.T) {
	same := [][]string{
		{"https://api.corp.local", "https://API.Corp.Local", "https://api.corp.local/", "https://api.corp.local:443", "https://api.corp.local:443//"},
		{"https://api.corp.local:6443", "https://Api.corp.local:6443/"},
		{"https://[fd00::a]:6443", "https://[FD00:0:0:0:0:0:0:A]:6443", "https://[fd00::a]:6443/"},
		{"https://10.0.0.1", "https://[::ffff:10.0.0.1]:443", "https://[::FFFF:a00:1]"},
		{"https://gw.corp.local/k8s/c1", "https://GW.corp.local:443/k8s/c1/"},
	}
	var keys []string
	for _, group := range same {
		k := argocd.ServerKey(group[0])
		for _, s := range group[1:] {
			if got := argocd.ServerKey(s); got != k {
				t.Errorf("argocd.ServerKey(%q) = %q, want %q as for %q", s, got, k, group[0])
			}
		}
		keys = append(keys, k)
	}
	// Different API servers stay apart: another port, another path, a
	// path's case.
	for _, s := range []string{"https://api.corp.local:6443/", "https://api.corp.local:8443", "https://gw.corp.local/k8s/C1", "https://gw.corp.local/k8s"} {
		k := argocd.ServerKey(s)
		for i, other := range keys {
			if k == other && !(i == 1 && s == "https://api.corp.local:6443/") {
				t.Errorf("argocd.ServerKey(%q) = %q, the key of %q", s, k, same[i][0])
			}
		}
	}
}

// serverDef builds defs' #Server on its own: it depends on nothing else
// of the package.
func serverDef(t testing.TB) cue.Value {
	t.Helper()
	name := filepath.Join(testplatform.Repo(), "defs", "cluster.cue")
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(name, src)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.Field); ok {
			if l, _, _ := ast.LabelName(fd.Label); l == "#Server" {
				v := cuecontext.New().BuildExpr(fd.Value)
				if v.Err() != nil {
					t.Fatal(v.Err())
				}
				return v
			}
		}
	}
	t.Fatalf("%s has no #Server", name)
	return cue.Value{}
}

func defsAccept(def cue.Value, s string) bool {
	return def.Unify(def.Context().Encode(s)).Validate(cue.Concrete(true)) == nil
}

// TestServerAgreesWithDefs: every server fleetc accepts, defs' #Server
// accepts too, so `cue vet` never rejects a platform fleetc compiles; and
// #Server already rejects what a regular expression can say is wrong.
func TestServerAgreesWithDefs(t *testing.T) {
	def := serverDef(t)
	for _, s := range validServers {
		if !defsAccept(def, s) {
			t.Errorf("#Server rejects %q, which fleetc accepts", s)
		}
	}
	for s, why := range invalidServers {
		switch why {
		case "is not a DNS name or an IP address", "is not an IPv6 address", "invalid IP-literal", "is not":
			continue // a well-formed name or address is fleetc's to check
		case `".." segment`:
			continue // a percent-encoded segment is fleetc's to decode
		}
		if defsAccept(def, s) {
			t.Errorf("#Server accepts %q, which %s", s, why)
		}
	}
}

// FuzzServer: a server fleetc accepts, #Server accepts; the key of a
// valid server is a valid server with the same key; and a message does
// not depend on a URL's user information, so it cannot show it.
func FuzzServer(f *testing.F) {
	for _, s := range validServers {
		f.Add(s)
	}
	for s := range invalidServers {
		f.Add(s)
	}
	def := serverDef(f)
	f.Fuzz(func(t *testing.T, s string) {
		msg := serverProblem(s)
		if msg == "" {
			if !defsAccept(def, s) {
				t.Fatalf("#Server rejects %q, which fleetc accepts", s)
			}
			k := argocd.ServerKey(s)
			if p := serverProblem(k); p != "" || argocd.ServerKey(k) != k {
				t.Fatalf("argocd.ServerKey(%q) = %q: %s; its key %q", s, k, p, argocd.ServerKey(k))
			}
			return
		}
		// The message does not depend on the user information, so it
		// cannot show it.
		if scheme, after, ok := strings.Cut(s, "://"); ok {
			authority, _, _ := strings.Cut(after, "/")
			if at := strings.LastIndex(authority, "@"); at >= 0 {
				other := scheme + "://X" + after[at:]
				if m := serverProblem(other); m != msg {
					t.Fatalf("serverProblem(%q) = %q, but %q for %q: the message depends on the user information", s, msg, m, other)
				}
			}
		}
	})
}
