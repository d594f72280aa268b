package assist

import (
	"slices"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/explain"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// reference runs fn with the warm evaluator of the reference platform
// and its cluster sandbox-dev, evaluated.
func reference(t *testing.T, fn func(sh compile.Shared, c *compile.Cluster, pkgs explain.Packages, root string)) {
	t.Helper()
	p, err := load.Load(load.Config{Dir: testplatform.Repo()})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(p.Clusters, func(cf *load.ClusterFile) bool { return cf.Name == "sandbox-dev" })
	err = compile.NewWarm(p).Use(func(sh compile.Shared) error {
		c, ds := sh.Cluster(p.Clusters[i])
		if len(ds) > 0 {
			t.Fatal(ds)
		}
		fn(sh, c, explain.LoadPackages(sh.Value.Context(), sh.Instance), p.Root)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestComplete: what may be written at a place of a cluster, from the
// schema and the platform's vocabulary, with what each is.
func TestComplete(t *testing.T) {
	reference(t, func(sh compile.Shared, _ *compile.Cluster, _ explain.Packages, _ string) {
		for _, tc := range []struct {
			path  string
			value bool
			// want are Text=Doc prefixes that must be among the items, in
			// this order; not those that must not be.
			want []string
			not  []string
		}{
			// The fields of #Cluster, with their doc comments; not name,
			// which the key under clusters sets, nor hidden fields.
			{path: "", want: []string{"env=env selects the environment", "server=server is the URL", "bundles=bundles enables", "labels=labels are extra labels", "argocd=argocd holds", "credentials=credentials says"}, not: []string{"name", "_requires"}},
			// At depth, and the value of a struct field continues its path.
			{path: "argocd", want: []string{"project=project restricts", "namespaces=namespaces limits", "clusterResources=clusterResources lets"}},
			{path: "credentials", want: []string{"key=key is the path", "bearerToken=bearerToken is the token"}},
			{path: "monitoring", value: true, want: []string{"retention=retention is how long", "victoriametricsoperator="}},
			// The vocabulary: bundles and labels with their descriptions.
			{path: "bundles", want: []string{`"core-basic"=certificates, DNS`, `"monitoring-basic"=metrics collection`, `"storage-basic"=volume snapshots`}},
			{path: "labels", want: []string{"region=the datacenter or cloud region", "provider=what provisions", "team=the team that owns"}},
			// Values: the envs with their settings, a schema's alternatives, bools.
			{path: "env", value: true, want: []string{`"dev"={"branch":"development"`, `"staging"=`, `"prod"={"branch":"main"`}},
			{path: "security.falco.driver", value: true, want: []string{`"modern_ebpf"=`, `"kmod"=`, `"ebpf"=`}},
			{path: "bundles.storage-basic", value: true, want: []string{"true=", "false="}},
			{path: "nosuchfield", want: nil},
		} {
			var path []string
			if tc.path != "" {
				path = strings.Split(tc.path, ".")
			}
			items := Complete(sh, path, tc.value)
			var got []string
			for _, it := range items {
				got = append(got, it.Text+"="+strings.TrimPrefix(it.Doc, "`"))
			}
			j := 0
			for _, g := range got {
				if j < len(tc.want) && strings.HasPrefix(g, tc.want[j]) {
					j++
				}
				for _, n := range tc.not {
					if strings.HasPrefix(g, n+"=") {
						t.Errorf("Complete(%s, %v) has %s", tc.path, tc.value, n)
					}
				}
			}
			if j < len(tc.want) {
				t.Errorf("Complete(%s, %v) = %q, want %q in order", tc.path, tc.value, got, tc.want)
			}
			if tc.want == nil && len(got) > 0 {
				t.Errorf("Complete(%s) = %q, want nothing", tc.path, got)
			}
		}
	})
}

// TestHover: a field's doc comment, its default, the value in effect and
// where it comes from, as explain tells it.
func TestHover(t *testing.T) {
	reference(t, func(sh compile.Shared, c *compile.Cluster, pkgs explain.Packages, root string) {
		for _, tc := range []struct {
			path string
			want []string
		}{
			// A default that depends on the cluster's env, followed to
			// the env's setting.
			{path: "monitoring.retention", want: []string{"**monitoring.retention** `string`", "retention is how long metrics are kept.", "Default: `platform.envs[env].retention`", "Value for sandbox-dev: `\"7d\"`", "default   defs/cluster.cue:", "cluster.env = \"dev\"", "set       clusters/sandbox-dev.cue:5:2  env: \"dev\"", "platform.envs.dev.retention = \"7d\""}},
			// A default the cluster overrides.
			{path: "security.falco.driver", want: []string{"Default: `\"modern_ebpf\"`", "Value for sandbox-dev: `\"ebpf\"`", "set       clusters/sandbox-dev.cue:13:", "(default \"modern_ebpf\" overridden)"}},
			{path: "env", want: []string{"`string, required`", "env selects the environment", "Value for sandbox-dev: `\"dev\"`"}},
			// A name of the vocabulary: what the platform says of it.
			{path: "labels.region", want: []string{"the datacenter or cloud region", "Value for sandbox-dev: `\"fra1\"`"}},
			{path: "bundles.monitoring-basic", want: []string{"metrics collection and storage", "Value for sandbox-dev: `true`"}},
		} {
			got := Hover(sh, c, pkgs, root, strings.Split(tc.path, "."))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("Hover(%s) lacks %q:\n%s", tc.path, w, got)
				}
			}
		}
		if got := Hover(sh, nil, pkgs, root, []string{"registry"}); !strings.Contains(got, "registry is the image pull proxy") || !strings.Contains(got, "does not evaluate") {
			t.Errorf("Hover of a cluster that does not evaluate:\n%s", got)
		}
		if got := Hover(sh, c, pkgs, root, []string{"nosuchfield"}); got != "" {
			t.Errorf("Hover(nosuchfield) = %q", got)
		}
	})
}
