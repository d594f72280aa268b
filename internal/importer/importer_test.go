package importer

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

var voc = Vocabulary{
	Envs:     []string{"dev", "prod", "staging"},
	Bundles:  []string{"core-basic", "monitoring-basic", "security-basic"},
	Required: []string{"core-basic", "security-basic"},
	Labels:   []string{"region", "team"},
}

func tkcJSON(name string, labels map[string]string, host string, port int) map[string]any {
	o := map[string]any{
		"kind":     TKCKind,
		"metadata": map[string]any{"name": name, "namespace": "ns", "labels": labels},
	}
	if host != "" {
		o["status"] = map[string]any{"apiEndpoints": []any{map[string]any{"host": host, "port": port}}}
	}
	return o
}

func list(items ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"kind": "List", "items": items})
	return b
}

func TestTKC(t *testing.T) {
	base := map[string]string{"env": "dev", "core-basic": "enabled", "security-basic": "enabled"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		item     map[string]any
		selector string
		// want is the cluster, or "" when it is not imported.
		server, bundles, labels string
		problems                []string
		unselected              int
	}{
		{name: "plain", item: tkcJSON("a", base, "10.0.0.1", 6443),
			server: "https://10.0.0.1:6443", bundles: "core-basic,security-basic"},
		{name: "ipv6 and no port", item: tkcJSON("a", base, "fd00::1", 0),
			server: "https://[fd00::1]:6443", bundles: "core-basic,security-basic"},
		{name: "vocabulary labels kept", item: tkcJSON("a", with(map[string]string{"region": "fra1", "monitoring-basic": "enabled"}), "h", 6443),
			server: "https://h:6443", bundles: "core-basic,monitoring-basic,security-basic", labels: "region=fra1"},
		{name: "unknown label reported", item: tkcJSON("a", with(map[string]string{"cost-center": "4711", "run.tanzu.vmware.com/tkr": "v1"}), "h", 6443),
			server: "https://h:6443", bundles: "core-basic,security-basic",
			problems: []string{"labels cost-center=4711, run.tanzu.vmware.com/tkr=v1 are neither a bundle nor in platform.labels (region, team): left out"}},
		{name: "bundle not enabled", item: tkcJSON("a", with(map[string]string{"monitoring-basic": "disabled"}), "h", 6443),
			server: "https://h:6443", bundles: "core-basic,security-basic",
			problems: []string{"label monitoring-basic=disabled: bundle monitoring-basic is enabled by monitoring-basic=enabled only; left off"}},
		{name: "required bundle missing", item: tkcJSON("a", map[string]string{"env": "dev", "core-basic": "enabled"}, "h", 6443),
			server: "https://h:6443", bundles: "core-basic",
			problems: []string{"no label security-basic=enabled, but every cluster has bundle security-basic"}},
		{name: "no endpoint", item: tkcJSON("a", base, "", 0),
			problems: []string{"no API endpoint in its status (is it provisioned?): not imported"}},
		{name: "no endpoint, not selected", item: tkcJSON("a", base, "", 0), selector: "env=prod", unselected: 1},
		{name: "no env", item: tkcJSON("a", map[string]string{"core-basic": "enabled"}, "h", 6443),
			problems: []string{`no "env" label: a cluster needs an env, one of dev, prod, staging: not imported`}},
		{name: "unknown env", item: tkcJSON("a", with(map[string]string{"env": "qa"}), "h", 6443),
			problems: []string{"label env=qa: not an env of the platform (dev, prod, staging): not imported"}},
		{name: "bad name, derived", item: tkcJSON("../a", base, "h", 6443),
			server: "https://h:6443", bundles: "core-basic,security-basic",
			problems: []string{`cluster name "../a" is not a valid cluster name (a lowercase RFC 1123 label`}},
		{name: "bad name, nothing left", item: tkcJSON("@", base, "h", 6443),
			problems: []string{`cluster name "@": a lowercase RFC 1123 label`}},
		{name: "selected", item: tkcJSON("a", base, "h", 6443), selector: "env in (dev,staging)",
			server: "https://h:6443", bundles: "core-basic,security-basic"},
		{name: "not selected", item: tkcJSON("a", base, "h", 6443), selector: "env=prod", unselected: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseSelector(tc.selector)
			if err != nil {
				t.Fatal(err)
			}
			res, err := TKC(list(tc.item), sel, voc)
			if err != nil {
				t.Fatal(err)
			}
			check(t, res, tc.server, tc.bundles, tc.labels, tc.problems, tc.unselected)
		})
	}
}

func check(t *testing.T, res *Result, server, bundles, labels string, problems []string, unselected int) {
	t.Helper()
	if res.Unselected != unselected {
		t.Errorf("unselected %d, want %d", res.Unselected, unselected)
	}
	if len(res.Problems) != len(problems) {
		t.Errorf("problems %v, want %v", res.Problems, problems)
	} else {
		for i, p := range problems {
			if !strings.Contains(res.Problems[i].Message, p) {
				t.Errorf("problem %q, want it to contain %q", res.Problems[i].Message, p)
			}
		}
	}
	if server == "" {
		if len(res.Clusters) > 0 {
			t.Errorf("imported %+v, want nothing", res.Clusters)
		}
		return
	}
	if len(res.Clusters) != 1 {
		t.Fatalf("imported %d clusters, want 1", len(res.Clusters))
	}
	c := res.Clusters[0]
	var ls []string
	for k, v := range c.Labels {
		ls = append(ls, k+"="+v)
	}
	slices.Sort(ls)
	if c.Server != server || strings.Join(c.Bundles, ",") != bundles || strings.Join(ls, ",") != labels {
		t.Errorf("got server %s bundles %v labels %v, want %s, %s, %s", c.Server, c.Bundles, ls, server, bundles, labels)
	}
}

func secretJSON(name string, data map[string]string, labels, annotations map[string]string) map[string]any {
	enc := map[string]string{}
	for k, v := range data {
		enc[k] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	return map[string]any{
		"kind":     SecretKind,
		"metadata": map[string]any{"name": name, "namespace": "argocd", "labels": labels, "annotations": annotations},
		"data":     enc,
	}
}

func TestArgoCDSecrets(t *testing.T) {
	labels := map[string]string{"argocd.argoproj.io/secret-type": "cluster", "env": "prod", "core-basic": "enabled", "security-basic": "enabled", "team": "a"}
	data := map[string]string{"name": "a", "server": "https://a.example.com", "config": `{"bearerToken":"SECRET"}`}
	named := "cluster-a.example.com-1595636922"

	t.Run("carried", func(t *testing.T) {
		d := map[string]string{"project": "p", "namespaces": "x,y", "clusterResources": "true"}
		for k, v := range data {
			d[k] = v
		}
		s := secretJSON(named, d, labels, map[string]string{
			"managed-by": "argocd.argoproj.io", "kubectl.kubernetes.io/last-applied-configuration": "{}", "owner": "me"})
		res, err := ArgoCDSecrets(list(s), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res, "https://a.example.com", "core-basic,security-basic", "team=a", nil, 0)
		c := res.Clusters[0]
		if c.ArgoCD.Project != "p" || strings.Join(c.ArgoCD.Namespaces, ",") != "x,y" || !c.ArgoCD.ClusterResources {
			t.Errorf("argocd %+v", c.ArgoCD)
		}
		if len(c.Annotations) != 1 || c.Annotations["owner"] != "me" {
			t.Errorf("annotations %v, want only owner=me", c.Annotations)
		}
		file, err := File(c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(file), "SECRET") || strings.Contains(string(file), "config") {
			t.Errorf("the file holds the credentials:\n%s", file)
		}
	})
	t.Run("other data and another name", func(t *testing.T) {
		d := map[string]string{"shard": "2"}
		for k, v := range data {
			d[k] = v
		}
		res, err := ArgoCDSecrets(list(secretJSON("mycluster", d, labels, nil)), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res, "https://a.example.com", "core-basic,security-basic", "team=a", []string{
			"data shard: no setting of a cluster file: left out",
			"its registration will be the Secret " + named + ", as `argocd cluster add` names it, not mycluster",
		}, 0)
	})
	t.Run("stringData", func(t *testing.T) {
		s := secretJSON(named, map[string]string{"name": "old"}, labels, nil)
		s["stringData"] = map[string]string{"name": "a", "server": "https://a.example.com"}
		res, err := ArgoCDSecrets(list(s), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res, "https://a.example.com", "core-basic,security-basic", "team=a", nil, 0)
	})
	t.Run("not a cluster", func(t *testing.T) {
		s := secretJSON("repo", map[string]string{"url": "git@x"}, map[string]string{"argocd.argoproj.io/secret-type": "repository"}, nil)
		res, err := ArgoCDSecrets(list(s), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res, "", "", "", []string{"not an Argo CD cluster Secret (label argocd.argoproj.io/secret-type=repository): not imported"}, 0)
	})
	t.Run("http server", func(t *testing.T) {
		d := map[string]string{"name": "a", "server": "http://a.example.com"}
		res, err := ArgoCDSecrets(list(secretJSON(named, d, labels, nil)), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		check(t, res, "", "", "", []string{"scheme must be https: not imported"}, 0)
	})
	t.Run("duplicate", func(t *testing.T) {
		s := secretJSON(named, data, labels, nil)
		res, err := ArgoCDSecrets(list(s, s), mustSelect(t, ""), voc)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Clusters) != 1 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0].Message, `cluster "a" is also Secret argocd/`+named) {
			t.Errorf("got %d clusters, problems %v", len(res.Clusters), res.Problems)
		}
	})
}

func TestInput(t *testing.T) {
	for _, in := range []string{`nope`, `{"kind": "ConfigMap"}`} {
		if _, err := TKC([]byte(in), mustSelect(t, ""), voc); err == nil {
			t.Errorf("TKC(%s): no error", in)
		}
	}
	one, _ := json.Marshal(tkcJSON("a", map[string]string{"env": "dev", "core-basic": "enabled", "security-basic": "enabled"}, "h", 1))
	res, err := TKC(one, mustSelect(t, ""), voc)
	if err != nil || len(res.Clusters) != 1 {
		t.Errorf("one TanzuKubernetesCluster: %v, %v", res, err)
	}
}

func TestFile(t *testing.T) {
	got, err := File(Cluster{
		Name: "a-dev", Env: "dev", Server: "https://a:6443",
		Bundles: []string{"core-basic", "monitoring-basic"},
		Labels:  map[string]string{"team": "t", "region": "r"},
		Source:  "TanzuKubernetesCluster ns/a-dev", LeftOut: []string{"labels x=y"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `package clusters

// Imported by fleetc from TanzuKubernetesCluster ns/a-dev.
// Left out, as the platform has no place for them:
//   labels x=y
clusters: "a-dev": {
	env:    "dev"
	server: "https://a:6443"
	bundles: {
		"core-basic":       true
		"monitoring-basic": true
	}
	labels: {
		region: "r"
		team:   "t"
	}
}
`
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func mustSelect(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := ParseSelector(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

func TestClusterName(t *testing.T) {
	for in, want := range map[string]string{
		"kubernetes-admin@Dev_Cluster.2":         "kubernetes-admin-dev-cluster-2",
		"arn:aws:eks:eu-west-1:123:cluster/Prod": "arn-aws-eks-eu-west-1-123-cluster-prod",
		"--a--b--":                               "a-b",
		"ÄÖ":                                     "",
		strings.Repeat("a", 62) + ".b":           strings.Repeat("a", 62) + "-",
	} {
		want = strings.TrimRight(want, "-")
		if got := ClusterName(in); got != want {
			t.Errorf("ClusterName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestArgoCDNamesAndNamespaces: a Secret named after a kubeconfig context
// is imported under a derived name or the one --rename gives, never
// dropped; a namespace-scoped cluster gets the namespaces its apps need.
func TestArgoCDNamesAndNamespaces(t *testing.T) {
	labels := map[string]string{"argocd.argoproj.io/secret-type": "cluster", "env": "prod", "core-basic": "enabled", "security-basic": "enabled", "monitoring-basic": "enabled"}
	ctx := "kubernetes-admin@Dev_Cluster.2"
	data := map[string]string{"name": ctx, "server": "https://10.0.0.2:6443", "namespaces": "payments,core"}
	v := voc
	v.Apps = []App{
		{Name: "cert-manager", Bundle: "core-basic", Namespace: "core"},
		{Name: "falco", Bundle: "security-basic", Namespace: "security"},
		{Name: "grafana", Bundle: "monitoring-medium", Namespace: "monitoring"},
		{Name: "kyverno", Bundle: "security-basic", Namespace: "kyverno"},
		{Name: "vm", Bundle: "monitoring-basic", Namespace: "monitoring"},
	}
	for _, tc := range []struct {
		renames  map[string]string
		name     string
		problems []string
	}{
		{name: "kubernetes-admin-dev-cluster-2", problems: []string{
			`cluster name "kubernetes-admin@Dev_Cluster.2" is not a valid cluster name`,
			"its apps also deploy to security, kyverno, monitoring, which its namespaces do not list: added, so that it compiles; its registration will allow them, with the line `namespaces: [\"payments\", \"core\", \"security\", \"kyverno\", \"monitoring\"]`"}},
		{renames: map[string]string{ctx: "dev-2"}, name: "dev-2", problems: []string{"imported as cluster dev-2 (--rename)", "its apps also deploy to"}},
		{renames: map[string]string{ctx: "Dev_2"}, problems: []string{"--rename kubernetes-admin@Dev_Cluster.2=Dev_2: a lowercase RFC 1123 label"}},
	} {
		res, err := ArgoCDSecretsRenamed(list(secretJSON("cluster-10.0.0.2-3628164356", data, labels, nil)), mustSelect(t, ""), v, tc.renames)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range res.Problems {
			got = append(got, p.Message)
		}
		if len(got) != len(tc.problems) {
			t.Errorf("%v: problems %q, want %q", tc.renames, got, tc.problems)
			continue
		}
		for i, want := range tc.problems {
			if !strings.Contains(got[i], want) {
				t.Errorf("%v: problem %q, want it to contain %q", tc.renames, got[i], want)
			}
		}
		if tc.name == "" {
			if len(res.Clusters) != 0 {
				t.Errorf("%v: imported %v", tc.renames, res.Clusters)
			}
			continue
		}
		if len(res.Clusters) != 1 || res.Clusters[0].Name != tc.name {
			t.Fatalf("%v: clusters %+v, want %s", tc.renames, res.Clusters, tc.name)
		}
		c := res.Clusters[0]
		if strings.Join(c.ArgoCD.Namespaces, ",") != "payments,core,security,kyverno,monitoring" {
			t.Errorf("namespaces %v", c.ArgoCD.Namespaces)
		}
		file, err := File(c)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(file), ctx) {
			t.Errorf("the file does not name the original %s:\n%s", ctx, file)
		}
	}
}

// TestArgoCDCredentialsLeftOut: labels and annotations that hold
// credentials, or whose keys are one, are left out of the cluster file
// and every message; a server with a password makes the Secret not
// importable. What `argocd cluster add` Secrets carry must not become a
// file in git.
func TestArgoCDCredentialsLeftOut(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXBsYW50ZWQ"
	lbls := map[string]string{"argocd.argoproj.io/secret-type": "cluster", "env": "prod", "core-basic": "enabled", "security-basic": "enabled",
		"team": "ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
	data := list(
		secretJSON("one", map[string]string{"name": "one", "server": "https://one.example.com"}, lbls,
			map[string]string{"corp/note": jwt, "corp/db-password": "PlantedPw99", jwt: "x", "corp/owner": "team-a"}),
		secretJSON("two", map[string]string{"name": "two", "server": "https://admin:PlantedPw99@two.example.com"}, lbls, nil),
	)
	res, err := ArgoCDSecrets(data, labels.Everything(), voc)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, p := range res.Problems {
		text.WriteString(p.Source + ": " + p.Message + "\n")
	}
	if len(res.Clusters) != 1 || res.Clusters[0].Name != "one" {
		t.Fatalf("clusters %+v, want one only\n%s", res.Clusters, &text)
	}
	c := res.Clusters[0]
	src, err := File(c)
	if err != nil {
		t.Fatal(err)
	}
	text.Write(src)
	for _, planted := range []string{"c2lnbmF0dXJl", "PlantedPw99", "ghp_abcdefghij"} {
		if strings.Contains(text.String(), planted) {
			t.Errorf("%q shown:\n%s", planted, &text)
		}
	}
	if c.Annotations["corp/owner"] != "team-a" {
		t.Errorf("an innocent annotation was dropped: %v", c.Annotations)
	}
	for _, want := range []string{"annotation corp/db-password: its value holds a credential", "annotation whose key holds a credential", "label team: its value holds a credential", "its server holds a credential"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("no %q in:\n%s", want, &text)
		}
	}
}
