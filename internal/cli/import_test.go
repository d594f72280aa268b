package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
)

// TestImportRegistrations shows that compiling imported clusters yields
// the registrations they had: for Argo CD Secrets, Secrets with their
// name, labels, annotations and data (credentials aside); for
// TanzuKubernetesClusters, the Secrets that the old script's `argocd
// cluster add <cluster> --label <each label> --upsert` made.
func TestImportRegistrations(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(self), "..", "..")
	fixtures := filepath.Join(filepath.Dir(self), "testdata", "import")

	for _, tc := range []struct {
		kind, file string
		want       func(t *testing.T, data []byte) map[string]registration
	}{
		{"argocd", "secrets.json", secretsWant},
		{"tkc", "tkc.json", tkcWant},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			root := emptyFleet(t, repo)
			data, err := os.ReadFile(filepath.Join(fixtures, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			runFleetc(t, root, bytes.NewReader(data), "import", tc.kind)
			runFleetc(t, root, nil, "compile")

			want := tc.want(t, data)
			if len(want) == 0 {
				t.Fatal("the fixture has no cluster")
			}
			for name, w := range want {
				got := readRegistration(t, filepath.Join(root, "deploy", "argocd", "clusters", name+".yaml"))
				if got.Name != w.Name {
					t.Errorf("%s: Secret name %q, want %q", name, got.Name, w.Name)
				}
				for _, m := range []struct {
					what      string
					got, want map[string]string
				}{
					{"labels", got.Labels, w.Labels},
					{"annotations", got.Annotations, w.Annotations},
					{"data", got.Data, w.Data},
				} {
					if !maps.Equal(m.got, m.want) {
						t.Errorf("%s: %s\n got %v\nwant %v", name, m.what, m.got, m.want)
					}
				}
			}
		})
	}
}

// registration is what a cluster Secret says of its cluster: all of it
// but the credentials.
type registration struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Data        map[string]string
}

// secretsWant: each Secret as it is, without its config.
func secretsWant(t *testing.T, data []byte) map[string]registration {
	var list struct {
		Items []struct {
			Metadata struct {
				Name        string            `json:"name"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Data map[string]string `json:"data"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]registration{}
	for _, s := range list.Items {
		r := registration{Name: s.Metadata.Name, Labels: s.Metadata.Labels, Annotations: s.Metadata.Annotations, Data: map[string]string{}}
		for k, v := range s.Data {
			if k == argocd.DataConfig {
				continue
			}
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			r.Data[k] = string(b)
		}
		out[r.Data[argocd.DataName]] = r
	}
	return out
}

// tkcWant: what `argocd cluster add` made of each cluster with
// `--label k=v` for each of its labels: those labels and the secret type,
// Argo CD's managed-by annotation, the name and the server of its API
// endpoint.
func tkcWant(t *testing.T, data []byte) map[string]registration {
	var list struct {
		Items []struct {
			Metadata struct {
				Name   string            `json:"name"`
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Status struct {
				APIEndpoints []struct {
					Host string `json:"host"`
					Port int    `json:"port"`
				} `json:"apiEndpoints"`
			} `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatal(err)
	}
	out := map[string]registration{}
	for _, c := range list.Items {
		ep := c.Status.APIEndpoints[0]
		server := "https://" + net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
		name, err := argocd.SecretName(server)
		if err != nil {
			t.Fatal(err)
		}
		labels := maps.Clone(c.Metadata.Labels)
		labels[argocd.SecretTypeLabel] = argocd.SecretTypeCluster
		out[c.Metadata.Name] = registration{
			Name:        name,
			Labels:      labels,
			Annotations: map[string]string{argocd.ManagedByAnnotation: argocd.ManagedByArgoCD},
			Data:        map[string]string{argocd.DataName: c.Metadata.Name, argocd.DataServer: server},
		}
	}
	return out
}

// readRegistration reads the Secret that a compiled ExternalSecret
// renders, without the config that carries the credentials.
func readRegistration(t *testing.T, path string) registration {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var es argocd.ExternalSecretObject
	if err := yaml.Unmarshal(data, &es); err != nil {
		t.Fatal(err)
	}
	tmpl := es.Spec.Target.Template
	r := registration{Name: es.Spec.Target.Name, Labels: tmpl.Metadata.Labels, Annotations: tmpl.Metadata.Annotations, Data: maps.Clone(tmpl.Data)}
	if es.Metadata.Name != r.Name {
		t.Errorf("%s: ExternalSecret %q renders Secret %q", path, es.Metadata.Name, r.Name)
	}
	delete(r.Data, argocd.DataConfig)
	return r
}

// emptyFleet copies the reference platform without its clusters.
func emptyFleet(t *testing.T, repo string) string {
	t.Helper()
	root := t.TempDir()
	for _, dir := range []string{"cue.mod", "defs"} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join(repo, dir))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "clusters"), 0o755); err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(filepath.Join(repo, "clusters", "platform.cue"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "clusters", "platform.cue"), shared, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// runFleetc runs fleetc in root and fails the test unless it succeeds.
func runFleetc(t *testing.T, root string, stdin *bytes.Reader, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	io := IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Cwd: root}
	if stdin != nil {
		io.Stdin = stdin
	}
	if code := Run(args, io); code != 0 {
		t.Fatalf("fleetc %v: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
	}
}
