package compile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueload "cuelang.org/go/cue/load"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// tinyPlatform writes the smallest platform fleetc reads, whose shared
// file adds extra inside `platform`, and loads it. Its defs constrain
// nothing, so what it holds reaches fleetc's own checks.
func tinyPlatform(t *testing.T, extra string) *load.Platform {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"cue.mod/module.cue": "module: \"example.com/tiny@v0\"\nlanguage: version: \"v0.17.0\"\n",
		"clusters/platform.cue": `package clusters

import "strings"

platform: {
	output: "out"
	argocd: namespace: "argocd"
	secretStore: {kind: "ClusterSecretStore", name: "vault", tokenProperty: "token", caProperty: "ca", refreshInterval: "1h"}
	envs: dev: branch: "development"
	applicationSets: {project: "p", syncPolicy: {prune: true, selfHeal: true, syncOptions: []}, preserveResourcesOnDeletion: false, handwritten: "hand"}
` + extra + `
}
bundles: core: {}
clusters: [Name=string]: {
	name:   Name
	env:    "dev"
	server: strings.HasPrefix("https://")
	bundles: core: true
	credentials: key: "clusters/\(Name)"
}
#catalog: hello: {bundle: "core", category: "apps", chart: "apps/hello", namespace: "apps", serverSideApply: false}
#deploy: {
	cluster: _
	apps: hello: values: hello: greeting: "hi"
}
`,
		"clusters/tiny.cue": "package clusters\n\nclusters: tiny: server: \"https://tiny.example.com\"\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := load.Load(load.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// relErr is err with the platform's directory taken out of positions.
func relErr(p *load.Platform, err error) string {
	return strings.ReplaceAll(err.Error(), p.Root+string(filepath.Separator), "")
}

// TestReadSettingsAPIVersion: fleetc itself checks the ExternalSecret API
// version, for a platform whose defs do not, at the line that sets it;
// a platform that does not set it keeps external-secrets.io/v1.
func TestReadSettingsAPIVersion(t *testing.T) {
	for _, tt := range []struct {
		extra, want, wantErr string
	}{
		{extra: "", want: argocd.ExternalSecretsV1},
		{extra: `secretStore: apiVersion: "external-secrets.io/v1"`, want: argocd.ExternalSecretsV1},
		{extra: `secretStore: apiVersion: "external-secrets.io/v1beta1"`, want: argocd.ExternalSecretsV1beta1},
		{extra: `secretStore: apiVersion: "external-secrets.io/v1alpha1"`, wantErr: `clusters/platform.cue:11:14: platform.secretStore.apiVersion: "external-secrets.io/v1alpha1" is not an ExternalSecret API version fleetc writes: want "external-secrets.io/v1" (External Secrets Operator 0.16 and later) or "external-secrets.io/v1beta1" (before 0.17)`},
		{extra: `secretStore: apiVersion: ""`, wantErr: `clusters/platform.cue:11:14: platform.secretStore.apiVersion: "" is not an ExternalSecret API version`},
		{extra: `secretStore: apiVersion: "v1"`, wantErr: `clusters/platform.cue:11:14: platform.secretStore.apiVersion: "v1" is not`},
	} {
		p := tinyPlatform(t, tt.extra)
		s, err := ReadSettings(p)
		if tt.wantErr != "" {
			if err == nil || !strings.HasPrefix(relErr(p, err), tt.wantErr) {
				t.Errorf("%s: error %v\nwant %s", tt.extra, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.extra, err)
			continue
		}
		if s.SecretStore.APIVersion != tt.want {
			t.Errorf("%s: apiVersion %q, want %q", tt.extra, s.SecretStore.APIVersion, tt.want)
		}
	}
}

// TestReadCatalogRevisions: each env's revisions are its branch unless it
// sets them; fleetc itself refuses one git cannot name, for a platform
// whose defs do not, at the line that sets it.
func TestReadCatalogRevisions(t *testing.T) {
	for _, tt := range []struct {
		extra   string
		want    Revisions
		wantErr string
	}{
		{extra: "", want: Revisions{Catalog: "development", Values: "development"}},
		{extra: `envs: dev: revisions: values: "main"`, want: Revisions{Catalog: "development", Values: "main"}},
		{extra: `envs: dev: revisions: {catalog: "", values: "v1.2.0"}`, want: Revisions{Catalog: "", Values: "v1.2.0"}},
		{extra: `envs: dev: revisions: catalog: "a..b"`, wantErr: `clusters/platform.cue:11:23: platform.envs.dev.revisions.catalog: "a..b" is not a git branch, tag or commit: it holds ..`},
		{extra: `envs: qa: branch: "qa branch"`, wantErr: `clusters/platform.cue:11:11: platform.envs.qa.branch: "qa branch" is not a git branch, tag or commit: it holds a space, a control character or one of ~^:?*[\`},
		{extra: `envs: qa: {branch: "qa branch", revisions: {catalog: "qa", values: "main"}}`, want: Revisions{Catalog: "qa", Values: "main"}},
		{extra: `envs: dev: revisions: values: "{{.name}}"`, wantErr: `clusters/platform.cue:11:23: platform.envs.dev.revisions.values: "{{.name}}" holds {{, which the ApplicationSet's template would read as an action`},
	} {
		p := tinyPlatform(t, tt.extra)
		cat, err := ReadCatalog(p)
		if tt.wantErr != "" {
			if err == nil || relErr(p, err) != tt.wantErr {
				t.Errorf("%s: error %v\nwant %s", tt.extra, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.extra, err)
			continue
		}
		if last := cat.Envs[len(cat.Envs)-1]; last.Revisions != tt.want {
			t.Errorf("%s: envs %+v, want revisions %+v", tt.extra, cat.Envs, tt.want)
		}
	}
}

// TestRevisionSchemaAgrees: the reference platform's #Revision, which
// cue vet and editors check, accepts exactly what argocd.CheckRevision,
// which fleetc checks, accepts.
func TestRevisionSchemaAgrees(t *testing.T) {
	insts := cueload.Instances([]string{"./defs"}, &cueload.Config{Dir: testplatform.Repo()})
	defs := cuecontext.New().BuildInstance(insts[0])
	schema := defs.LookupPath(cue.ParsePath("#Revision"))
	if !schema.Exists() {
		t.Fatalf("defs has no #Revision: %v", defs.Err())
	}
	for _, r := range []string{
		"", "main", "HEAD", "release/1.2", "v1.2.3", "refs/heads/main", "0123456789abcdef0123456789abcdef01234567",
		"feature/über", "a@b", "x-y_z+1", "{x}", "a}}b", "bad..rev", "a b", "a\tb", "~x", "x^", "a:b", "a?", "a*",
		"a[b", `a\b`, "@", "/a", "a/", "a//b", ".a", "a/.b", "a.", "a.lock", "a.lock/b", "a.locks", "a@{1}",
		"x\x7f", "x\n", "\x00", "{{.name}}", "a{{b", "-", "--x", "a/b/c",
	} {
		cueOK := schema.Unify(defs.Context().Encode(r)).Validate(cue.Concrete(true)) == nil
		if goOK := argocd.CheckRevision(r) == nil; cueOK != goOK {
			t.Errorf("%q: #Revision accepts %v, CheckRevision %v", r, cueOK, goOK)
		}
	}
}
