package compile

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"cuelang.org/go/cue/literal"
	"cuelang.org/go/cue/parser"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/load"
)

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXBsYW50ZWQ"

func TestCredentialLiterals(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // path: what, one per finding
	}{
		{"jwt anywhere", `a: b: "` + jwt + `"`, []string{"a.b: it looks like a JSON Web Token"}},
		{"jwt in a list", `a: ["x", "Bearer ` + jwt + `"]`, []string{"a: it looks like a JSON Web Token"}},
		{"bearer header", `h: "Authorization: Bearer abcdefghijklmnopqrstuvwxyz"`, []string{"h: it looks like an HTTP bearer token"}},
		{"private key", "k: \"\"\"\n\t-----BEGIN EC PRIVATE KEY-----\n\tMHcCAQEE\n\t-----END EC PRIVATE KEY-----\n\t\"\"\"", []string{"k: it looks like a PEM block"}},
		{"base64 pem", `ca: "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"`, []string{"ca: it looks like a base64-encoded PEM block"}},
		{"password field", `db: auth: password: "hunter2"`, []string{"db.auth.password: a field named password"}},
		{"password default", `db: adminPassword: *"hunter2" | string`, []string{"db.adminPassword: a field named adminPassword"}},
		{"snake token", `api_token: "abc"`, []string{"api_token: a field named api_token"}},
		{"client secret", `oidc: clientSecret: "abc"`, []string{"oidc.clientSecret: a field named clientSecret"}},
		{"quoted label", `"cert-manager": "my-password": "x"`, []string{`"cert-manager"."my-password": a field named my-password`}},
		{"github token", `x: "ghp_abcdefghijklmnopqrstuvwxyz0123456789"`, []string{"x: it looks like a GitHub token"}},
		{"aws key", `x: "AKIAABCDEFGHIJKLMNOP"`, []string{"x: it looks like an AWS access key"}},
		{"base64 jwt", `x: "ZXlKaGJHY2lPaUpTVXpJMU5pSjkuZXlKemRXSWlPaUp6ZVhOMFpXMGlmUS5jMmxuYm1GMGRYSmxMWEJzWVc1MFpXUQ=="`, []string{"x: it looks like a base64-encoded JSON Web Token"}},
		{"url password", `repo: "https://ci:hunter2@git.corp.local/x.git"`, []string{"repo: it looks like a URL with a password"}},
		{"pwd", `db: pwd: "hunter2"`, []string{"db.pwd: a field named pwd"}},
		{"apiKey", `apiKey: "k"`, []string{"apiKey: a field named apiKey"}},
		{"credentials string", `credentials: "c"`, []string{"credentials: a field named credentials"}},
		{"basic auth", `basicAuth: "user:pw"`, []string{"basicAuth: a field named basicAuth"}},
		{"jwt as a label", `annotations: "` + jwt + `": "x"`, []string{"annotations.\"" + jwt + "\": a label: it looks like a JSON Web Token"}},
		{"number password", `db: password: 123456`, []string{"db.password: a field named password holds a literal number"}},
		{"computed number", `db: password: 1000 + 234`, nil}, // checked once evaluated
		{"number count", `maxTokens: 5`, nil},
		{"env reference", `db: password: "${DB_PASSWORD}"`, nil},
		{"in a comprehension", `for x in [1] {pw: {password: "x\(x)y"}}`, nil},
		{"in a let", `let p = "` + jwt + `"
x: p`, []string{": it looks like a JSON Web Token"}},

		// Not credentials.
		{"property name", `secretStore: {tokenProperty: "bearerToken", caProperty: "caData"}`, nil},
		{"existing secret", `velero: credentials: existingSecret: "velero-credentials"`, nil},
		{"secret name", `tls: secretName: "ingress-tls"`, nil},
		{"template", `config: bearerToken: "{{ .token }}"`, nil},
		{"empty", `auth: password: ""`, nil},
		{"reference", `auth: password: other
other: string`, nil},
		{"interpolation", `n: "x"
auth: token: "\(n)-token"`, nil},
		{"type only", `credentials: bearerToken?: string @secret(env=X)`, nil},
		{"boolean", `automountServiceAccountToken: true`, nil},
		{"comment", "// Bearer " + jwt + "\nx: 1", nil},
		{"import path", "import \"strings\"\nx: strings.ToUpper(\"a\")", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parser.ParseFile("x.cue", "package x\n"+tc.src)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range credentialLiterals(f) {
				got = append(got, strings.Join(c.path, ".")+": "+c.what)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("got %q, want prefix %q", got[i], tc.want[i])
				}
			}
		})
	}
}

// TestReferenceHasNoCredentials: the reference platform trips none of the
// rules, so they do not cry wolf on a real platform.
func TestReferenceHasNoCredentials(t *testing.T) {
	p := reference(t)
	if creds := sharedCredentials(p.Shared, p.Root); len(creds) > 0 {
		t.Errorf("shared files: %v", creds)
	}
	for _, c := range p.Clusters {
		if creds := credentialLiterals(c.Syntax); len(creds) > 0 {
			t.Errorf("%s: %v", c.Name, creds)
		}
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor([]credential{{value: jwt}, {value: "line one of a key\nline two of a key"}})
	ds := r.list(diag.List{
		{Message: fmt.Sprintf("invalid value %q (too long)", jwt)},
		{Message: "conflicting values \"line one of a key\\nline two of a key\" and 5; line two of a key"},
	})
	for _, d := range ds {
		if strings.Contains(d.Message, "c2lnbmF0dXJl") || strings.Contains(d.Message, "line two") {
			t.Errorf("not redacted: %s", d.Message)
		}
	}
	if want := "invalid value *** (too long)"; ds[0].Message != want {
		t.Errorf("got %s, want %s", ds[0].Message, want)
	}
}

// TestFleetPanic: a panic while a worker compiles a cluster, in the step
// or in the cache lookup, comes back to the caller's goroutine, where the
// command line recovers it, instead of killing the process with a stack
// trace; it names the cluster and keeps the value, and no worker is still
// running by then.
func TestFleetPanic(t *testing.T) {
	p := reference(t)
	for _, where := range []string{"step", "cached"} {
		t.Run(where, func(t *testing.T) {
			var active atomic.Int32
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), "cluster edge-minimal: boom") {
					t.Errorf("recovered %v, want the worker's panic", r)
				}
				if fp, ok := r.(*fan.Panic); !ok || fp.Value != "boom" || fp.Item != "cluster edge-minimal" {
					t.Errorf("recovered %#v, want a *fan.Panic of boom", r)
				}
				if n := active.Load(); n != 0 {
					t.Errorf("%d workers still running", n)
				}
			}()
			enter := func(name string) {
				active.Add(1)
				if name == "edge-minimal" {
					active.Add(-1)
					panic("boom")
				}
				time.Sleep(time.Millisecond)
				active.Add(-1)
			}
			var cached Cached[int]
			if where == "cached" {
				cached = func(f *load.ClusterFile) (int, string, bool) {
					enter(f.Name)
					return 0, "", false
				}
			}
			FleetCached(p, Options{Workers: 2}, cached, func(c *Cluster) (int, error) {
				if where == "step" {
					enter(c.Name)
				}
				return 0, nil
			})
			t.Error("Fleet returned")
		})
	}
}

func TestSecretSource(t *testing.T) {
	sf := secretField{env: "FLEETC_TOKEN_{NAME}", file: "/run/{name}/{NAME}"}
	got := sf.source("payments-prod-2")
	if got.Env != "FLEETC_TOKEN_PAYMENTS_PROD_2" || got.File != "/run/payments-prod-2/PAYMENTS_PROD_2" {
		t.Errorf("source = %+v", got)
	}
}

func reference(t *testing.T) *load.Platform {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	p, err := load.Load(load.Config{Dir: filepath.Join(filepath.Dir(self), "..", "..")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzCredentialLiterals plants a token in any string literal, written in
// any way CUE allows, and checks that it is found and that the redactor
// hides it in a message that quotes the literal as CUE does.
func FuzzCredentialLiterals(f *testing.F) {
	f.Add("", "", false)
	f.Add("Bearer ", "\n", true)
	f.Add("\"quoted\" \\ ", "\t\u00e9", false)
	f.Add("-----BEGIN ", "-----", true)
	f.Fuzz(func(t *testing.T, prefix, suffix string, multiline bool) {
		value := prefix + jwt + suffix
		if !utf8.ValidString(value) {
			t.Skip()
		}
		form := literal.String
		if multiline {
			form = form.WithTabIndent(1).WithOptionalTabIndent(1)
		}
		src := "package x\n\nx: y: " + form.Quote(value) + "\n"
		file, err := parser.ParseFile("x.cue", src)
		if err != nil {
			t.Skipf("not CUE: %v", err)
		}
		creds := credentialLiterals(file)
		if len(creds) != 1 || strings.Join(creds[0].path, ".") != "x.y" {
			t.Fatalf("planted token not found once at x.y in %s: %v", src, creds)
		}
		if creds[0].value != value {
			t.Fatalf("value %q, want %q", creds[0].value, value)
		}
		msg := newRedactor(creds).list(diag.List{{Message: "invalid value " + literal.String.Quote(value) + " and " + fmt.Sprintf("%q", value)}})[0].Message
		if strings.Contains(msg, jwt) {
			t.Fatalf("redacted message still holds the token: %s", msg)
		}
	})
}
