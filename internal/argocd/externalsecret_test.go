package argocd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"text/template"

	"go.yaml.in/yaml/v3"
)

// Local mirror of argo-cd's pkg/apis/application/v1alpha1 ClusterConfig and
// the types it refers to: same field order, same json tags.
type mirrorClusterConfig struct {
	Username           string                    `json:"username,omitempty"`
	Password           string                    `json:"password,omitempty"`
	BearerToken        string                    `json:"bearerToken,omitempty"`
	TLSClientConfig    mirrorTLSClientConfig     `json:"tlsClientConfig"`
	AWSAuthConfig      *mirrorAWSAuthConfig      `json:"awsAuthConfig,omitempty"`
	ExecProviderConfig *mirrorExecProviderConfig `json:"execProviderConfig,omitempty"`
	DisableCompression bool                      `json:"disableCompression,omitempty"`
	ProxyURL           string                    `json:"proxyUrl,omitempty"`
}

type mirrorTLSClientConfig struct {
	Insecure   bool   `json:"insecure"`
	ServerName string `json:"serverName,omitempty"`
	CertData   []byte `json:"certData,omitempty"`
	KeyData    []byte `json:"keyData,omitempty"`
	CAData     []byte `json:"caData,omitempty"`
}

type mirrorAWSAuthConfig struct {
	ClusterName string `json:"clusterName,omitempty"`
	RoleARN     string `json:"roleARN,omitempty"`
	Profile     string `json:"profile,omitempty"`
}

type mirrorExecProviderConfig struct {
	Command            string            `json:"command,omitempty"`
	Args               []string          `json:"args,omitempty"`
	Env                map[string]string `json:"env,omitempty"`
	APIVersion         string            `json:"apiVersion,omitempty"`
	InstallHint        string            `json:"installHint,omitempty"`
	ProvideClusterInfo bool              `json:"provideClusterInfo,omitempty"`
	Config             json.RawMessage   `json:"config,omitempty"`
}

const (
	sampleToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06YXJnb2NkLW1hbmFnZXIifQ.c2lnbmF0dXJlLV8"
	samplePEM   = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUSample+/Data==\n-----END CERTIFICATE-----\n"
)

// sampleCAData is what kubeconfig's certificate-authority-data holds.
var sampleCAData = base64.StdEncoding.EncodeToString([]byte(samplePEM))

// render executes one template value the way the External Secrets Operator's
// v2 engine does (text/template, default delimiters, missingkey=error), with
// the fetched values as data.
func render(t *testing.T, tpl string) string {
	t.Helper()
	tmpl, err := template.New("v").Option("missingkey=error").Parse(tpl)
	if err != nil {
		t.Fatalf("parse %q: %v", tpl, err)
	}
	var b strings.Builder
	data := map[string]string{TokenKey: sampleToken, CADataKey: sampleCAData}
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatalf("execute %q: %v", tpl, err)
	}
	return b.String()
}

func boolPtr(b bool) *bool { return &b }

func sampleCluster() Cluster {
	return Cluster{
		Name:             "dev-1",
		Server:           "https://api.dev-1.example.com:6443",
		Env:              "dev",
		Bundles:          []string{"monitoring-basic", "logging"},
		Labels:           map[string]string{"team": "platform"},
		Annotations:      map[string]string{"example.com/note": "literal {{ .token }}"},
		Project:          "platform",
		Namespaces:       []string{"apps", "monitoring"},
		ClusterResources: boolPtr(true),
		Namespace:        "argocd",
		Store: SecretStore{
			Kind:            "ClusterSecretStore",
			Name:            "platform-vault",
			Key:             "platform/argocd/clusters/dev-1",
			TokenProperty:   "token",
			CAProperty:      "certificate-authority-data",
			RefreshInterval: "1h",
		},
	}
}

func TestConfigTemplateMatchesArgoCD(t *testing.T) {
	rendered := render(t, ConfigTemplate)

	dec := json.NewDecoder(strings.NewReader(rendered))
	dec.DisallowUnknownFields()
	var cfg mirrorClusterConfig
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("rendered config %s is not a ClusterConfig: %v", rendered, err)
	}
	if dec.More() {
		t.Fatalf("trailing data after config %s", rendered)
	}
	again, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != rendered {
		t.Errorf("re-marshalled config differs:\n got %s\nwant %s", again, rendered)
	}

	// What `argocd cluster add` stores for a bearer-token cluster whose
	// kubeconfig carries the CA inline.
	want, err := json.Marshal(mirrorClusterConfig{
		BearerToken:     sampleToken,
		TLSClientConfig: mirrorTLSClientConfig{CAData: []byte(samplePEM)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rendered != string(want) {
		t.Errorf("rendered config differs from Argo CD's:\n got %s\nwant %s", rendered, want)
	}
	if string(cfg.TLSClientConfig.CAData) != samplePEM || cfg.BearerToken != sampleToken || cfg.TLSClientConfig.Insecure {
		t.Errorf("decoded config = %+v", cfg)
	}
}

func TestExternalSecretYAML(t *testing.T) {
	c := sampleCluster()
	es, err := ExternalSecret(c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(es); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}

	want := strings.ReplaceAll(`apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: cluster-api.dev-1.example.com-HASH
  namespace: argocd
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: platform-vault
    kind: ClusterSecretStore
  target:
    name: cluster-api.dev-1.example.com-HASH
    creationPolicy: Owner
    template:
      engineVersion: v2
      type: Opaque
      mergePolicy: Replace
      metadata:
        labels:
          argocd.argoproj.io/secret-type: cluster
          env: dev
          logging: enabled
          monitoring-basic: enabled
          team: platform
        annotations:
          example.com/note: literal {{ "{{" }} .token }}
          managed-by: argocd.argoproj.io
      data:
        clusterResources: "true"
        config: '{"bearerToken":"{{ .token }}","tlsClientConfig":{"insecure":false,"caData":"{{ .caData }}"}}'
        name: dev-1
        namespaces: apps,monitoring
        project: platform
        server: https://api.dev-1.example.com:6443
  data:
    - secretKey: token
      remoteRef:
        key: platform/argocd/clusters/dev-1
        property: token
    - secretKey: caData
      remoteRef:
        key: platform/argocd/clusters/dev-1
        property: certificate-authority-data
`, "HASH", fnv32a(t, c.Server))
	if got := b.String(); got != want {
		t.Errorf("YAML differs:\n--- got\n%s--- want\n%s", got, want)
	}

	// The YAML reads back into the same object.
	var back ExternalSecretObject
	if err := yaml.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, es) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, *es)
	}
}

// TestRenderedSecret renders the whole template as the operator would and
// compares it with the Secret `argocd cluster add` writes for the same
// cluster (argo-cd util/db clusterToSecret plus addSecretMetadata).
func TestRenderedSecret(t *testing.T) {
	c := sampleCluster()
	c.Server += "/" // hashed as given, stored without the slash
	es, err := ExternalSecret(c)
	if err != nil {
		t.Fatal(err)
	}
	tpl := es.Spec.Target.Template
	renderAll := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k] = render(t, v)
		}
		return out
	}

	config, err := json.Marshal(mirrorClusterConfig{
		BearerToken:     sampleToken,
		TLSClientConfig: mirrorTLSClientConfig{CAData: []byte(samplePEM)},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantData := map[string]string{
		"name":             "dev-1",
		"server":           "https://api.dev-1.example.com:6443",
		"config":           string(config),
		"namespaces":       "apps,monitoring",
		"clusterResources": "true",
		"project":          "platform",
	}
	if got := renderAll(tpl.Data); !reflect.DeepEqual(got, wantData) {
		t.Errorf("data:\n got %v\nwant %v", got, wantData)
	}
	wantLabels := map[string]string{
		"argocd.argoproj.io/secret-type": "cluster",
		"env":                            "dev",
		"monitoring-basic":               "enabled",
		"logging":                        "enabled",
		"team":                           "platform",
	}
	if got := renderAll(tpl.Metadata.Labels); !reflect.DeepEqual(got, wantLabels) {
		t.Errorf("labels:\n got %v\nwant %v", got, wantLabels)
	}
	wantAnnotations := map[string]string{
		"managed-by":       "argocd.argoproj.io",
		"example.com/note": "literal {{ .token }}", // not the token
	}
	if got := renderAll(tpl.Metadata.Annotations); !reflect.DeepEqual(got, wantAnnotations) {
		t.Errorf("annotations:\n got %v\nwant %v", got, wantAnnotations)
	}

	wantName := "cluster-api.dev-1.example.com-" + fnv32a(t, c.Server)
	if es.Metadata.Name != wantName || es.Spec.Target.Name != wantName {
		t.Errorf("names = %q, %q, want %q", es.Metadata.Name, es.Spec.Target.Name, wantName)
	}
	if tpl.Type != "Opaque" || tpl.EngineVersion != "v2" || tpl.MergePolicy != "Replace" || es.Spec.Target.CreationPolicy != "Owner" {
		t.Errorf("template settings = %+v, creationPolicy %q", tpl, es.Spec.Target.CreationPolicy)
	}
}

func TestTemplateDataOptionalKeys(t *testing.T) {
	for _, cr := range []*bool{nil, boolPtr(false)} {
		c := sampleCluster()
		c.Project = ""
		c.Namespaces = nil
		c.ClusterResources = cr
		data, err := TemplateData(c)
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		if len(data) != 3 || data["name"] == "" || data["server"] == "" || data["config"] != ConfigTemplate {
			t.Errorf("ClusterResources=%v: data keys %v, want name, server, config", cr, keys)
		}
	}
}

func TestLiteral(t *testing.T) {
	for _, s := range []string{"", "plain", "{{", "}}", "{{{", "a{{{{b", "{ {", "{{- .token -}}", `{{ "x" }}`, "{{/* c */}}", "x{"} {
		if got := render(t, literal(s)); got != s {
			t.Errorf("render(literal(%q)) = %q", s, got)
		}
	}
}

func TestExternalSecretErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Cluster)
		want   []string
	}{
		{"http server", func(c *Cluster) { c.Server = "http://x.example.com" }, []string{`server "http://x.example.com": scheme must be https`}},
		{"no name", func(c *Cluster) { c.Name = "" }, []string{"name is empty"}},
		{"no namespace", func(c *Cluster) { c.Namespace = "" }, []string{"namespace is empty"}},
		{"bad namespace", func(c *Cluster) { c.Namespace = "Argo_CD" }, []string{`namespace "Argo_CD"`}},
		{"bad project", func(c *Cluster) { c.Project = "My Project" }, []string{`project "My Project"`}},
		{"bad namespaces", func(c *Cluster) { c.Namespaces = []string{"ok", "a,b"} }, []string{`namespaces: "a,b"`}},
		{"bad label", func(c *Cluster) { c.Labels["env"] = "prod" }, []string{`label "env"`}},
		{"bad annotation", func(c *Cluster) { c.Annotations["managed-by"] = "me" }, []string{`annotation "managed-by"`}},
		{"store kind", func(c *Cluster) { c.Store.Kind = "Vault" }, []string{`store kind "Vault"`}},
		{"store empty", func(c *Cluster) { c.Store = SecretStore{} }, []string{"store name is empty", "store key is empty", "store token property is empty", "store CA property is empty"}},
		{"store name", func(c *Cluster) { c.Store.Name = "Platform Vault" }, []string{`store name "Platform Vault"`}},
		{"refresh", func(c *Cluster) { c.Store.RefreshInterval = "hourly" }, []string{`store refresh interval "hourly"`}},
		{"several", func(c *Cluster) { c.Server = "ftp://x"; c.Env = ""; c.Namespace = "" },
			[]string{"scheme must be https", `label "env"`, "namespace is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleCluster()
			tt.mutate(&c)
			es, err := ExternalSecret(c)
			if err == nil {
				t.Fatalf("ExternalSecret = %+v, want an error", es)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `cluster "`+c.Name+`": `) {
				t.Errorf("error %q does not start with the cluster name", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Count(msg, "scheme must be https") > 1 {
				t.Errorf("server error reported twice: %q", msg)
			}
		})
	}
}
