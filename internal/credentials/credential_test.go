package credentials

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestIsName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "adminPassword": true, "api_token": true, "clientSecret": true,
		"secretAccessKey": true, "bearer-token": true, "PRIVATE_KEY": true, "pwd": true, "db.pwd": true,
		"auth": true, "basicAuth": true, "credentials": true, "GOOGLE_APPLICATION_CREDENTIALS": true,
		"apiKey": true, "api-key": true, "privateKey": true, "client_secret": true, "Authorization": true,
		"accessKey": true, "connectionString": true, "sessionCookie": true, "signing key": true,
		"passwords": true, "secrets": true, "tokens": true, "apiKeys": true, "pass": true, "pw": true,
		"adminPass": true, "rootPass": true, "privKey": true, "sshKey": true, "ssh_key": true, "jwt": true,
		"kubeconfig": true, "tokenValue": true, "secretValue": true, "credentialsJson": true, "passWord1": true,
		"password:": true, "password/": true, "existingPassword": true, "existing_secret_password": true,
		"pin": true, "simPin": true, "sim_pin": true, "spin": false, "bypass": false, "existingSecretName": false,
		"passwordFile": false, "tokenTTL": false, "maxTokens": true, "existingSecretPasswordKey": false,
		"existingSecret": false, "tokenProperty": false, "secretStore": false, "secretName": false,
		"name": false, "replicas": false, "key": false, "author": false, "caData": false,
	} {
		if got := IsName(name); got != want {
			t.Errorf("IsName(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{"password": true, "DB_PWD": true, "simPin": true, "maxToken": false, "tokens": false} {
		if got := IsPasswordName(name); got != want {
			t.Errorf("IsPasswordName(%q) = %v, want %v", name, got, want)
		}
	}
}

const (
	jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXBsYW50ZWQ"
	pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAplanted\n-----END RSA PRIVATE KEY-----\n"
)

func b64(s string) string    { return base64.StdEncoding.EncodeToString([]byte(s)) }
func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// wrap breaks s into lines of n characters, as PEM bodies and some
// manifests do.
func wrap(s string, n int) string {
	var lines []string
	for len(s) > n {
		lines, s = append(lines, s[:n]), s[n:]
	}
	return strings.Join(append(lines, s), "\n")
}

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name, s, what string // what is "" for no finding
	}{
		{"jwt", jwt, "a JSON Web Token"},
		{"jwt in text", "token=" + jwt + ";", "a JSON Web Token"},
		{"pem", pem, "a PEM block"},
		{"base64 jwt", b64(jwt), "a base64-encoded JSON Web Token"},
		{"base64 jwt, URL alphabet", b64url(jwt), "a base64-encoded JSON Web Token"},
		{"base64 pem", b64(pem), "a base64-encoded PEM block"},
		{"base64 pem at an offset", b64("x" + pem), "a base64-encoded PEM block"},
		{"base64 pem, two offsets", b64("xy" + pem), "a base64-encoded PEM block"},
		{"base64 pem, wrapped", wrap(b64(pem), 64), "a base64-encoded PEM block"},
		{"base64 of base64 pem", b64(b64(pem)), "a base64-encoded base64-encoded PEM block"},
		{"base64 in a sentence", "ca: " + b64(pem) + " (from kubectl)", "a base64-encoded PEM block"},
		{"github token", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"},
		{"url password", "https://admin:hunter2@git.corp.local/repo.git", "a URL with a password"},
		{"url password, no user", "redis://:hunter2@redis:6379", "a URL with a password"},
		{"url password with @", "postgres://app:p@ss@db:5432/x", "a URL with a password"},
		{"url token as user", "https://ghx0123456789abcdefghij@github.com/x", "a URL with a password"},
		{"url in text", "clone from https://u:p4ss@host/x first", "a URL with a password"},
		{"slack webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX", "a Slack token or webhook"},

		{"base64 after text", "x" + b64(jwt), "a base64-encoded JSON Web Token"},
		{"base64 after two", "to" + b64(jwt), "a base64-encoded JSON Web Token"},
		{"basic auth", "Basic " + b64("robot:s3cr3t-pw"), "an HTTP basic authorization"},
		{"dockerconfigjson", b64(`{"auths":{"r.io":{"username":"u","password":"hunter22"}}}`), "a base64-encoded credential assigned"},
		{"flag", "--password=hunter22", "a credential assigned"},
		{"yaml in a string", "smtp_auth_password: hunter22", "a credential assigned"},
		{"ini", "password = hunter22", "a credential assigned"},
		{"json", `{"password":"hunter22"}`, "a credential assigned"},
		{"connection string", "Server=db;User Id=sa;Password=hunter22;", "a credential assigned"},
		{"percent-encoded colon", "https://a%3Apw12345@h.local/", "a URL with a password"},
		{"scheme-less", "//admin:pw12345@h.local/", "a URL with a password"},
		{"mysql dsn", "admin:pw12345@tcp(db:3306)/app", "a URL with a password"},
		{"json-escaped url", `https:\/\/admin:pw12345@h.local\/`, "a URL with a password"},
		{"vault token", "hvs.CAESIJplantedplantedplantedplanted", "a Vault token"},
		{"openshift token", "sha256~" + strings.Repeat("a1B2", 11), "an OpenShift bearer token"},
		{"npm token", "npm_" + strings.Repeat("a1B2", 9), "an npm token"},
		{"docker token", "dckr_pat_" + strings.Repeat("a1B2", 6), "a Docker Hub token"},
		{"api secret key", "sk-proj-" + strings.Repeat("a1B2", 9), "an API secret key"},

		{"colon and at, no host", "00000:0@", ""},
		{"image digest", "nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{"flag reference", "--password=$(DB_PASSWORD)", ""},
		{"secret name in text", "secretName: ingress-tls", ""},
		{"basic in prose", "basic authentication is off", ""},
		{"scp-like git", "git@git.corp.local:platformteam/service-value-repo", ""},
		{"ssh user", "ssh://git@git.corp.local/repo.git", ""},
		{"https with port", "https://sandbox-dev.k8s.corp.local:6443", ""},
		{"https user", "https://alice@git.corp.local/x", ""},
		{"hex digest", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{"plain base64", b64("just some configuration text"), ""},
		{"image", "pullproxy.corp.local/victoriametrics/operator:v0.68.0", ""},
		{"short", "abc", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := Find(tc.s)
			if tc.what == "" {
				if ok {
					t.Fatalf("Find(%q) = %+v, want nothing", tc.s, f)
				}
				return
			}
			if !ok || !strings.HasPrefix(f.What, tc.what) {
				t.Fatalf("Find(%q) = %+v, %v; want %q", tc.s, f, ok, tc.what)
			}
			if got := Scrub(tc.s); got == tc.s || strings.Contains(got, "hunter2") || strings.Contains(got, "p4ss") {
				t.Errorf("Scrub(%q) = %q", tc.s, got)
			}
			if _, ok := Find(Scrub(tc.s)); ok {
				t.Errorf("Scrub(%q) = %q, which still holds a credential", tc.s, Scrub(tc.s))
			}
		})
	}
}

func TestScrubKeepsText(t *testing.T) {
	msg := `annotations."` + jwt + `": invalid value "` + b64(pem) + `" at https://u:pw@h/x`
	got := Scrub(msg)
	if want := `annotations."***": invalid value "***" at https://***@h/x`; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
	if plain := "clusters/a.cue:3:4: a: env: conflicting values \"dev\" and \"prod\""; Scrub(plain) != plain {
		t.Errorf("Scrub changed a message without credentials: %q", Scrub(plain))
	}
}

func TestIsReference(t *testing.T) {
	for s, want := range map[string]bool{
		"{{ .token }}": true, "{{ .token | toJson }}{{ .ca }}": true, "{{- .ca -}}": true, "${DB_PASSWORD}": true, "$(PASSWORD)": true,
		"hunter2": false, "x{{ .token }}": false, "${A}b": false, "": false,
		`{{ "hunter2" }}`: false, "{{- /* hunter2 */ -}}": false, "{{ .token | toJson }}": true,
	} {
		if got := IsReference(s); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzScrub plants a credential, in plain text or an encoding, between any
// two strings: Find sees it and Scrub leaves none of it.
func FuzzScrub(f *testing.F) {
	f.Add("", "", uint8(0))
	f.Add("token: ", "\n", uint8(1))
	f.Add("\"", "\\", uint8(2))
	f.Add("LS0t", "==", uint8(3))
	f.Add("https://", "@host", uint8(4))
	f.Fuzz(func(t *testing.T, prefix, suffix string, form uint8) {
		planted, secret := jwt, "c2lnbmF0dXJlLXBsYW50ZWQ"
		switch form % 5 {
		case 1:
			planted = b64(jwt)
			secret = planted
		case 2:
			planted, secret = b64(pem), b64(pem)
		case 3:
			planted, secret = wrap(b64(pem), 64), "MIIEowIBAAKCAQEAplanted"
		case 4:
			planted, secret = "https://admin:plantedPW9@git.corp.local/x", "plantedPW9"
		}
		s := prefix + planted + suffix
		if _, ok := Find(s); !ok {
			// Text around a base64 run can extend it and shift its
			// alignment; the run itself is found.
			if form%5 == 1 || form%5 == 2 || form%5 == 3 {
				t.Skip()
			}
			t.Fatalf("Find(%q) found nothing", s)
		}
		got := Scrub(s)
		if strings.Contains(got, secret) {
			t.Fatalf("Scrub(%q) = %q still holds %q", s, got, secret)
		}
	})
}

func TestCheckPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		value, key string
		want       bool
	}{
		{"none", "auth", false}, {"false", "basicAuth", false}, {"kubernetes", "auth", false},
		{"basic", "authType", false}, {"hunter2", "auth", true}, {"kubernetes", "password", true},
		{"disabled", "token", false}, {"changeme", "password", true},
	} {
		if _, got := Check(tc.value, tc.key); got != tc.want {
			t.Errorf("Check(%q, %q) = %v, want %v", tc.value, tc.key, got, tc.want)
		}
	}
}

// TestFindRemembers: Find remembers the short strings it found nothing
// in, and only those: a credential is found every time, and a long string
// is looked at every time.
func TestFindRemembers(t *testing.T) {
	clean := "registry: pullproxy.corp.local/remembered"
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	long := strings.Repeat("not a credential ", 20)
	for range 2 {
		if _, ok := Find(clean); ok {
			t.Fatalf("%q: found a credential", clean)
		}
		if _, ok := Find(jwt); !ok {
			t.Fatal("a JWT not found the second time")
		}
		Find(long)
	}
	if _, ok := cleanSeen(clean); !ok {
		t.Errorf("%q not remembered", clean)
	}
	if _, ok := cleanSeen(jwt); ok {
		t.Error("a credential remembered as clean")
	}
	if _, ok := cleanSeen(long); ok {
		t.Errorf("a string of %d bytes remembered", len(long))
	}
}

func cleanSeen(s string) (any, bool) { return clean.Load(s) }
