package argocd

import (
	"hash/fnv"
	"strconv"
	"strings"
	"testing"
)

// fnv32a hashes s independently of the package code.
func fnv32a(t *testing.T, s string) string {
	t.Helper()
	h := fnv.New32a()
	if _, err := h.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(uint64(h.Sum32()), 10)
}

func TestSecretName(t *testing.T) {
	tests := []struct {
		server string
		host   string // expected host part of the name
	}{
		{"https://example.com", "example.com"},
		{"https://api.dev-1.example.com:6443", "api.dev-1.example.com"},
		{"https://API.Dev-1.Example.COM:6443", "api.dev-1.example.com"},
		{"https://10.0.0.1:443", "10.0.0.1"},
		{"https://[2001:db8::1]:6443", "2001-db8--1"},
		{"https://[2001:DB8:0:0:0:0:0:1]", "2001-db8--1"},
		{"https://rancher.example.com/k8s/clusters/c-m-abc12", "rancher.example.com"},
		{"https://example.com/", "example.com"},
		{"https://user@example.com:6443", "example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			got, err := SecretName(tt.server)
			if err != nil {
				t.Fatalf("SecretName(%q): %v", tt.server, err)
			}
			// The hash covers the URL exactly as given: case, port,
			// path and trailing slash included.
			want := "cluster-" + tt.host + "-" + fnv32a(t, tt.server)
			if got != want {
				t.Errorf("SecretName(%q) = %q, want %q", tt.server, got, want)
			}
		})
	}
}

func TestSecretNameDistinguishesSpellings(t *testing.T) {
	a, err := SecretName("https://example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := SecretName("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("trailing slash should change the hash, both gave %q", a)
	}
}

// TestURIToSecretNameUpstreamVectors checks the name formula against the
// expectations in argo-cd's util/db/cluster_test.go (Test_URIToSecretName),
// which use http URLs that SecretName itself rejects.
func TestURIToSecretNameUpstreamVectors(t *testing.T) {
	tests := map[string]string{
		"http://foo": "cluster-foo-752281925",
		"http://thelongestdomainnameintheworld.argocd-project.com:3000": "cluster-thelongestdomainnameintheworld.argocd-project.com-2721640553",
		"http://[fe80::1ff:fe23:4567:890a]":                             "cluster-fe80--1ff-fe23-4567-890a-3877258831",
		"http://[fe80::1ff:fe23:4567:890a]:8000":                        "cluster-fe80--1ff-fe23-4567-890a-664858999",
		"http://[FE80::1FF:FE23:4567:890A]:8000":                        "cluster-fe80--1ff-fe23-4567-890a-682802007",
		"http://:/abc":                                                  "cluster--1969338796",
	}
	for uri, want := range tests {
		got, err := uriToSecretName("cluster", uri)
		if err != nil {
			t.Errorf("uriToSecretName(%q): %v", uri, err)
			continue
		}
		if got != want {
			t.Errorf("uriToSecretName(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestSecretNameErrors(t *testing.T) {
	tests := []struct {
		server string
		want   string
	}{
		{"", "scheme must be https"},
		{"example.com", "scheme must be https"},
		{"http://example.com", "scheme must be https"},
		{"HTTPS://example.com", ""}, // url.Parse lower-cases the scheme: accepted
		{"https://", "no host"},
		{"https://:6443", "no host"},
		{"https://exa mple.com", "invalid character"},
		{"https://[fe80::1%25eth0]:6443", "secret name"}, // zone makes the name invalid
	}
	for _, tt := range tests {
		t.Run(tt.server, func(t *testing.T) {
			_, err := SecretName(tt.server)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("SecretName(%q): %v", tt.server, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SecretName(%q) error = %v, want it to contain %q", tt.server, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.server) {
				t.Errorf("error %q does not name the server", err)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	c := Cluster{
		Env:     "dev",
		Bundles: []string{"monitoring-basic", "example.com/logging"},
		Labels:  map[string]string{"team": "platform", "region": ""},
	}
	got, err := Labels(c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"argocd.argoproj.io/secret-type": "cluster",
		"env":                            "dev",
		"monitoring-basic":               "enabled",
		"example.com/logging":            "enabled",
		"team":                           "platform",
		"region":                         "",
	}
	if len(got) != len(want) {
		t.Errorf("Labels = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("label %q = %q (present %v), want %q", k, g, ok, v)
		}
	}
}

func TestLabelErrors(t *testing.T) {
	tests := []struct {
		name string
		c    Cluster
		want []string // substrings of the error
	}{
		{"empty env", Cluster{}, []string{`label "env": env is empty`}},
		{"bad env", Cluster{Env: "dev env"}, []string{`label "env": value "dev env"`}},
		{"extra env", Cluster{Env: "dev", Labels: map[string]string{"env": "prod"}}, []string{`label "env": is reserved`}},
		{"extra secret-type", Cluster{Env: "dev", Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}}, []string{`label "argocd.argoproj.io/secret-type": is reserved`}},
		{"extra eso", Cluster{Env: "dev", Labels: map[string]string{"reconcile.external-secrets.io/managed": "true"}}, []string{`label "reconcile.external-secrets.io/managed": is reserved`}},
		{"extra vs bundle", Cluster{Env: "dev", Bundles: []string{"monitoring-basic"}, Labels: map[string]string{"monitoring-basic": "disabled"}}, []string{`label "monitoring-basic": conflicts with bundle`}},
		{"bundle env", Cluster{Env: "dev", Bundles: []string{"env"}}, []string{`bundle "env": label key is reserved`}},
		{"bundle twice", Cluster{Env: "dev", Bundles: []string{"a", "b", "a"}}, []string{`bundle "a": listed more than once`}},
		{"bad bundle", Cluster{Env: "dev", Bundles: []string{"-bad"}}, []string{`bundle "-bad": not a valid label key`}},
		{"bad key", Cluster{Env: "dev", Labels: map[string]string{"bad key": "x"}}, []string{`label "bad key": invalid key`}},
		{"bad prefix", Cluster{Env: "dev", Labels: map[string]string{"Example.com/x": "y"}}, []string{`label "Example.com/x": invalid key`}},
		{"bad value", Cluster{Env: "dev", Labels: map[string]string{"team": "plat form"}}, []string{`label "team": value "plat form"`}},
		{"long value", Cluster{Env: "dev", Labels: map[string]string{"team": strings.Repeat("a", 64)}}, []string{`label "team": value "aaaa`, "63"}},
		{"all reported", Cluster{Bundles: []string{"env"}, Labels: map[string]string{"bad key": "x", "team": "plat form"}},
			[]string{`label "env": env is empty`, `bundle "env"`, `label "bad key"`, `label "team"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Labels(tt.c)
			if err == nil {
				t.Fatalf("Labels(%+v) = %v, want an error", tt.c, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	got, err := Annotations(Cluster{Annotations: map[string]string{"example.com/owner": "team-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["managed-by"] != "argocd.argoproj.io" || got["example.com/owner"] != "team-a" {
		t.Errorf("Annotations = %v", got)
	}
}

func TestAnnotationErrors(t *testing.T) {
	tests := map[string]string{
		"managed-by":                 `annotation "managed-by": reserved for Argo CD`,
		"argocd.argoproj.io/refresh": `annotation "argocd.argoproj.io/refresh": reserved for Argo CD`,
		"kubectl.kubernetes.io/last-applied-configuration": `annotation "kubectl.kubernetes.io/last-applied-configuration": Argo CD refuses`,
		"reconcile.external-secrets.io/data-hash":          `annotation "reconcile.external-secrets.io/data-hash": reserved for External Secrets`,
		"not a key": `annotation "not a key": invalid key`,
	}
	for key, want := range tests {
		_, err := Annotations(Cluster{Annotations: map[string]string{key: "v"}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Annotations with %q: error = %v, want it to contain %q", key, err, want)
		}
	}
}
