package argocd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"text/template"

	"github.com/Masterminds/sprig/v3"
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

// esoFuncs is the function map of the External Secrets Operator's v2
// template engine (external-secrets runtime/template/v2): sprig's
// text/template functions without env and expandenv. The operator's own
// additions (pkcs12, jwk, filterPEM, toYaml and the like) are left out:
// fleetc's templates must not need them.
func esoFuncs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	return f
}

// execute runs one template value the way the operator's v2 engine does
// (text/template, default delimiters, missingkey=error, sprig functions),
// with the fetched values as data.
func execute(tpl string, data map[string]string) (string, error) {
	tmpl, err := template.New("v").Option("missingkey=error").Funcs(esoFuncs()).Parse(tpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// render executes one template value over the sample credentials.
func render(t *testing.T, tpl string) string {
	t.Helper()
	out, err := execute(tpl, map[string]string{TokenKey: sampleToken, CADataKey: sampleCAData})
	if err != nil {
		t.Fatalf("execute %q: %v", tpl, err)
	}
	return out
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
			APIVersion:      ExternalSecretsV1,
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
        config: |-
CONFIG
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
	// config is ConfigTemplate as a literal block, line for line.
	want = strings.Replace(want, "CONFIG", "          "+strings.ReplaceAll(ConfigTemplate, "\n", "\n          "), 1)
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

// TestExternalSecretAPIVersion: the ExternalSecret is of the API version
// the store says, and the rest of it does not depend on the version.
func TestExternalSecretAPIVersion(t *testing.T) {
	c := sampleCluster()
	want, err := ExternalSecret(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range ExternalSecretAPIVersions {
		c.Store.APIVersion = v
		es, err := ExternalSecret(c)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if es.APIVersion != v {
			t.Errorf("apiVersion %q, want %q", es.APIVersion, v)
		}
		es.APIVersion = want.APIVersion
		if !reflect.DeepEqual(es, want) {
			t.Errorf("%s: the ExternalSecret differs beyond its apiVersion:\n got %+v\nwant %+v", v, es, want)
		}
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
		{"store empty", func(c *Cluster) { c.Store = SecretStore{} }, []string{`store API version ""`, "store name is empty", "store key is empty", "store token property is empty", "store CA property is empty"}},
		{"API version", func(c *Cluster) { c.Store.APIVersion = "external-secrets.io/v1alpha1" }, []string{`store API version "external-secrets.io/v1alpha1": want one of external-secrets.io/v1, external-secrets.io/v1beta1`}},
		{"API version without group", func(c *Cluster) { c.Store.APIVersion = "v1" }, []string{`store API version "v1"`}},
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

// TestConfigTemplateHostile executes ConfigTemplate as the operator does
// over values a store may hold, and reads the result as Argo CD reads a
// cluster Secret's config (util/db: json.Unmarshal into ClusterConfig,
// caData a []byte, so base64 in the JSON). Every value is either taken, and
// then the token and the CA's bytes come out as inline mode would store
// them, or refused with a message that names the property and does not
// quote the value. The JSON each case produces is logged (go test -v).
func TestConfigTemplateHostile(t *testing.T) {
	twoCerts := samplePEM + strings.Replace(samplePEM, "Sample", "Second", 1)
	wrapped := func(s string) string { // as base64(1) prints it
		var b strings.Builder
		for len(s) > 76 {
			b.WriteString(s[:76] + "\n")
			s = s[76:]
		}
		return b.String() + s + "\n"
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, token, ca string
		// wantToken and wantCA are what Argo CD must read; wantErr, if
		// set, is the property the template must refuse instead.
		wantToken, wantCA, wantErr string
	}{
		{name: "jwt and base64", token: sampleToken, ca: sampleCAData, wantToken: sampleToken, wantCA: samplePEM},
		{name: "PEM", token: sampleToken, ca: samplePEM, wantToken: sampleToken, wantCA: samplePEM},
		{name: "trailing newline", token: sampleToken + "\n", ca: sampleCAData + "\n", wantToken: sampleToken, wantCA: samplePEM},
		{name: "CRLF and spaces around", token: "  sha256~tok\r\n", ca: " " + sampleCAData + "\r\n", wantToken: "sha256~tok", wantCA: samplePEM},
		{name: "quote", token: `tok"en`, ca: samplePEM, wantToken: `tok"en`, wantCA: samplePEM},
		{name: "backslash", token: `to\ken\`, ca: samplePEM, wantToken: `to\ken\`, wantCA: samplePEM},
		{name: "JSON injection", token: `x","tlsClientConfig":{"insecure":true},"y":"`, ca: samplePEM, wantToken: `x","tlsClientConfig":{"insecure":true},"y":"`, wantCA: samplePEM},
		{name: "HTML characters", token: "a<b>&c", ca: samplePEM, wantToken: "a<b>&c", wantCA: samplePEM},
		{name: "template syntax", token: "{{.caData}}", ca: samplePEM, wantToken: "{{.caData}}", wantCA: samplePEM},
		{name: "base64 wrapped", token: sampleToken, ca: wrapped(b64(twoCerts)), wantToken: sampleToken, wantCA: twoCerts},
		{name: "PEM bundle", token: sampleToken, ca: twoCerts, wantToken: sampleToken, wantCA: twoCerts},
		{name: "PEM CRLF", token: sampleToken, ca: strings.ReplaceAll(samplePEM, "\n", "\r\n"), wantToken: sampleToken, wantCA: strings.ReplaceAll(samplePEM, "\n", "\r\n")},
		{name: "PEM unicode preamble", token: sampleToken, ca: "Subject: CN=Zürich \"CA\" \\ ☃\n" + samplePEM, wantToken: sampleToken, wantCA: "Subject: CN=Zürich \"CA\" \\ ☃\n" + samplePEM},
		{name: "base64 unicode preamble", token: sampleToken, ca: b64("Zürich\n" + samplePEM), wantToken: sampleToken, wantCA: "Zürich\n" + samplePEM},
		{name: "PEM no trailing newline", token: sampleToken, ca: strings.TrimSuffix(samplePEM, "\n"), wantToken: sampleToken, wantCA: strings.TrimSuffix(samplePEM, "\n")},
		{name: "empty CA", token: sampleToken, ca: "", wantToken: sampleToken, wantCA: ""},

		{name: "empty token", token: "", ca: samplePEM, wantErr: TokenKey},
		{name: "blank token", token: " \n", ca: samplePEM, wantErr: TokenKey},
		{name: "newline inside token", token: "PLANTED\ntoken", ca: samplePEM, wantErr: TokenKey},
		{name: "space inside token", token: "Bearer PLANTED", ca: samplePEM, wantErr: TokenKey},
		{name: "unicode token", token: "PLANTED-tökén", ca: samplePEM, wantErr: TokenKey},
		{name: "line separator token", token: "PLANTED\u2028x", ca: samplePEM, wantErr: TokenKey},
		{name: "control character token", token: "PLANTED\x00x", ca: samplePEM, wantErr: TokenKey},
		{name: "CA not base64", token: sampleToken, ca: "PLANTED not a CA!", wantErr: CADataKey},
		{name: "CA base64url", token: sampleToken, ca: base64.URLEncoding.EncodeToString([]byte("\xfb\xff" + samplePEM)), wantErr: CADataKey},
		{name: "CA base64 of DER", token: sampleToken, ca: b64("PLANTED\x30\x82"), wantErr: CADataKey},
		{name: "CA base64 twice", token: sampleToken, ca: b64(sampleCAData), wantErr: CADataKey},
		{name: "CA private key first", token: sampleToken, ca: "-----BEGIN PRIVATE KEY-----\nPLANTED\n-----END PRIVATE KEY-----\n" + samplePEM, wantErr: CADataKey},
		{name: "CA blank", token: sampleToken, ca: " \n", wantErr: CADataKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := execute(ConfigTemplate, map[string]string{TokenKey: tt.token, CADataKey: tt.ca})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("config = %s, want an error about %s", out, tt.wantErr)
				}
				msg := err.Error()
				if !strings.Contains(msg, "error calling fail: "+tt.wantErr+": ") {
					t.Errorf("error %q does not name %s", msg, tt.wantErr)
				}
				if strings.Contains(msg, "PLANTED") {
					t.Errorf("error quotes the value: %q", msg)
				}
				t.Logf("refused: %s", msg[strings.Index(msg, "error calling fail: ")+len("error calling fail: "):])
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("config: %s", out)

			// Argo CD's util/db.SecretToCluster: json.Unmarshal of
			// data.config into v1alpha1.ClusterConfig.
			var cfg mirrorClusterConfig
			if err := json.Unmarshal([]byte(out), &cfg); err != nil {
				t.Fatalf("config %s: Argo CD would drop the cluster: %v", out, err)
			}
			if cfg.BearerToken != tt.wantToken {
				t.Errorf("bearerToken %q, want %q", cfg.BearerToken, tt.wantToken)
			}
			if string(cfg.TLSClientConfig.CAData) != tt.wantCA {
				t.Errorf("caData %q, want %q", cfg.TLSClientConfig.CAData, tt.wantCA)
			}
			if cfg.TLSClientConfig.Insecure {
				t.Error("insecure is true")
			}
			// Nothing else, and byte for byte what Argo CD itself writes.
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(new(mirrorClusterConfig)); err != nil {
				t.Errorf("config %s has fields Argo CD does not: %v", out, err)
			}
			want, err := json.Marshal(mirrorClusterConfig{BearerToken: tt.wantToken, TLSClientConfig: mirrorTLSClientConfig{CAData: []byte(tt.wantCA)}})
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("config differs from Argo CD's encoding:\n got %s\nwant %s", out, want)
			}
		})
	}
}

// FuzzConfigTemplate: whatever the store holds, the operator either
// renders a config that Argo CD reads, byte for byte as Argo CD itself
// encodes it, with the stored token less surrounding white space and the
// stored CA's PEM; or the template fails with one of its two messages,
// which name the property and quote nothing.
func FuzzConfigTemplate(f *testing.F) {
	f.Add(sampleToken, sampleCAData)
	f.Add(sampleToken+"\n", samplePEM)
	f.Add(`tok"en\`, " "+sampleCAData+"\r\n")
	f.Add("tök en", "PLANTED not a CA")
	f.Add("", "")
	f.Add("x", "-----BEGIN PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----")
	f.Fuzz(func(t *testing.T, token, ca string) {
		out, err := execute(ConfigTemplate, map[string]string{TokenKey: token, CADataKey: ca})
		if err != nil {
			msg := err.Error()
			_, reason, ok := strings.Cut(msg, "error calling fail: ")
			if !ok || !(strings.HasPrefix(reason, TokenKey+": the value in the secret store is empty") ||
				strings.HasPrefix(reason, CADataKey+": the value in the secret store is neither")) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		var cfg mirrorClusterConfig
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil || dec.More() {
			t.Fatalf("config %q: Argo CD would drop the cluster: %v", out, err)
		}
		if want := strings.TrimSpace(token); cfg.BearerToken != want || want == "" {
			t.Fatalf("bearerToken %q from %q", cfg.BearerToken, token)
		}
		want := ca
		if ca != "" && !strings.Contains(ca, "-----BEGIN") {
			decoded, err := base64.StdEncoding.DecodeString(strings.Map(func(r rune) rune {
				if strings.ContainsRune(" \t\n\v\f\r", r) {
					return -1
				}
				return r
			}, ca))
			if err != nil {
				t.Fatalf("CA %q is not base64 (%v), yet the config is %s", ca, err, out)
			}
			want = string(decoded)
		}
		if string(cfg.TLSClientConfig.CAData) != want || cfg.TLSClientConfig.Insecure {
			t.Fatalf("tlsClientConfig %+v from CA %q", cfg.TLSClientConfig, ca)
		}
		if want != "" && firstPEMType(want) != "CERTIFICATE" {
			t.Fatalf("CA %q taken, yet its first PEM block is no certificate", want)
		}
		again, err := json.Marshal(cfg)
		if err != nil || string(again) != out {
			t.Fatalf("config %s is not Argo CD's encoding %s", out, again)
		}
	})
}

// firstPEMType is the type of the first PEM type line in s, found as Go's
// encoding/pem finds it: a line that begins "-----BEGIN " and ends
// "-----" once trailing spaces, tabs and carriage returns are trimmed.
func firstPEMType(s string) string {
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, " \t\r")
		if rest, ok := strings.CutPrefix(line, "-----BEGIN "); ok {
			if typ, ok := strings.CutSuffix(rest, "-----"); ok {
				return typ
			}
		}
	}
	return ""
}
