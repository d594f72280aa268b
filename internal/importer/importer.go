// Package importer turns clusters that exist elsewhere into cluster files:
// TanzuKubernetesClusters as `kubectl get tkc -A -o json` lists them, and
// the Argo CD cluster Secrets that `argocd cluster add` made. It reads
// JSON and returns cluster data, the CUE source of each cluster file and
// every problem it met; it never touches the disk.
//
// What a cluster file may say is the platform's vocabulary: its envs, its
// bundles (a label `<bundle>: enabled`) and the extra labels of
// platform.labels. Anything else an object carries is reported and left
// out, never dropped silently. Credentials are never read: a Secret's
// `config` is skipped unopened.
package importer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/credentials"
)

// Vocabulary is what a cluster file may say, read from the platform.
type Vocabulary struct {
	// Envs are the names of platform.envs.
	Envs []string
	// Bundles are the names of the bundles.
	Bundles []string
	// Required are the bundles every cluster has.
	Required []string
	// Labels are the names of platform.labels: the extra labels a
	// cluster may carry.
	Labels []string
	// Apps are the apps of the catalog, sorted by name: a cluster
	// restricted to some namespaces must allow theirs.
	Apps []App
}

// App is an app of the catalog as import needs it.
type App struct {
	Name, Bundle, Namespace string
}

// Cluster is one imported cluster, as its file says it.
type Cluster struct {
	Name   string
	Env    string
	Server string
	// Bundles are the bundles its labels enable, sorted.
	Bundles []string
	// Labels are its extra labels from the vocabulary.
	Labels map[string]string
	// Annotations are carried over from an Argo CD Secret.
	Annotations map[string]string
	// ArgoCD holds the Argo CD settings of a Secret, if any.
	ArgoCD ArgoCD
	// Source names the object it came from, such as
	// "TanzuKubernetesCluster tanzu-dev/armored-core-development".
	Source string
	// LeftOut lists what the object had that the file cannot say, one
	// entry per line, for a comment in the file.
	LeftOut []string
}

// ArgoCD holds the optional Argo CD settings of a cluster.
type ArgoCD struct {
	Project          string
	Namespaces       []string
	ClusterResources bool
}

func (a ArgoCD) empty() bool {
	return a.Project == "" && len(a.Namespaces) == 0 && !a.ClusterResources
}

// Problem is something an object had that the imported cluster does not
// carry, or an object that could not be imported at all.
type Problem struct {
	// Source names the object, as Cluster.Source does.
	Source string
	// Skipped says the object was not imported.
	Skipped bool
	Message string
}

func (p Problem) String() string { return p.Source + ": " + p.Message }

// Result is what an import found.
type Result struct {
	// Clusters are the clusters to write, sorted by name.
	Clusters []Cluster
	// Problems are in the order of the input.
	Problems []Problem
	// Unselected counts the objects the selector left out.
	Unselected int
	// Objects names the objects of the input, such as "Secrets".
	Objects string
}

// object is what both kinds of input have in common.
type object struct {
	source string
	name   string
	server string
	labels map[string]string
	// selectOn are the labels the selector sees: all the object has.
	selectOn    map[string]string
	annotations map[string]string
	argocd      ArgoCD
	// leftOut are what the reader itself could not carry.
	leftOut []string
	// skip, if set, says why the object cannot be imported, should the
	// selector match it.
	skip string
	// problems are what the reader left out, reported should the
	// selector match the object.
	problems []string
	// dropped say which labels and annotations dropCredentials left out.
	dropped []string
}

// dropCredentials takes out of o every label and annotation that holds
// something shaped like a credential (credentials.Check), or whose key
// is one, saying so without showing it: a cluster file lives in git, and
// what is left out is also named in its comment. A name or server that
// holds one makes the object not importable; the returned reason says so.
func (o *object) dropCredentials() string {
	if f, ok := credentials.Find(o.server); ok {
		return fmt.Sprintf("its server holds a credential (%s), which a cluster file in git must not: remove it from the server (Argo CD reads the cluster's credentials from its config)", f.Reason())
	}
	if f, ok := credentials.Find(o.name); ok {
		return fmt.Sprintf("its name holds a credential (%s)", f.Reason())
	}
	drop := func(kind string, m map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if f, ok := credentials.Find(k); ok {
				delete(m, k)
				o.dropped = append(o.dropped, fmt.Sprintf("%s whose key holds a credential (%s): left out, and shown nowhere", kind, f.Reason()))
				continue
			}
			if f, ok := credentials.Check(m[k], k); ok {
				delete(m, k)
				o.dropped = append(o.dropped, fmt.Sprintf("%s %s: its value holds a credential (%s): left out, and shown nowhere; have what reads it take it from a Secret", kind, k, f.Reason()))
			}
		}
	}
	drop("label", o.labels)
	drop("annotation", o.annotations)
	if _, ok := credentials.Check(o.argocd.Project, "project"); ok {
		o.argocd.Project = ""
		o.dropped = append(o.dropped, "data project: it holds a credential: left out")
	}
	o.argocd.Namespaces = slices.DeleteFunc(o.argocd.Namespaces, func(ns string) bool {
		_, ok := credentials.Find(ns)
		return ok
	})
	return ""
}

// build turns the objects that sel matches into clusters, classifying
// their labels against voc. A cluster whose name renames has is imported
// under the new name; one whose name is not a valid cluster name (a
// DNS-1123 label, as a kubeconfig context often is not) under a name
// derived from it, reported.
func build(kind string, objs []object, sel labels.Selector, voc Vocabulary, renames map[string]string) *Result {
	res := &Result{Objects: kind + "s"}
	seen := map[string]string{}
	for _, o := range objs {
		if !sel.Matches(labels.Set(o.selectOn)) {
			res.Unselected++
			continue
		}
		skip := func(format string, args ...any) {
			res.Problems = append(res.Problems, Problem{Source: o.source, Skipped: true, Message: fmt.Sprintf(format, args...) + ": not imported"})
		}
		if o.skip != "" {
			skip("%s", o.skip)
			continue
		}
		if why := o.dropCredentials(); why != "" {
			skip("%s", why)
			continue
		}
		for _, p := range o.dropped {
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: p})
		}
		if to, ok := renames[o.name]; ok {
			if msgs := validation.IsDNS1123Label(to); len(msgs) > 0 {
				skip("--rename %s=%s: %s", o.name, to, strings.Join(msgs, "; "))
				continue
			}
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf("imported as cluster %s (--rename): Argo CD will know it by that name", to)})
			o.leftOut = append(o.leftOut, "name "+o.name+" (renamed "+to+")")
			o.name = to
		} else if msgs := validation.IsDNS1123Label(o.name); len(msgs) > 0 {
			to := ClusterName(o.name)
			if to == "" {
				skip("cluster name %q: %s; give --rename %s=<name>", o.name, strings.Join(msgs, "; "), o.name)
				continue
			}
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf(
				"cluster name %q is not a valid cluster name (%s): imported as %s, which Argo CD will know it by; give --rename %s=<name> for another",
				o.name, strings.Join(msgs, "; "), to, o.name)})
			o.leftOut = append(o.leftOut, "name "+o.name+" (not a DNS-1123 label; renamed "+to+")")
			o.name = to
		}
		if prev, dup := seen[o.name]; dup {
			skip("cluster %q is also %s", o.name, prev)
			continue
		}
		if err := checkServer(o.server); err != nil {
			skip("%v", err)
			continue
		}
		c := Cluster{Name: o.name, Server: o.server, Source: o.source, Annotations: o.annotations, ArgoCD: o.argocd, LeftOut: o.leftOut}
		env, ok := o.labels[argocd.EnvLabel]
		switch {
		case !ok:
			skip("no %q label: a cluster needs an env, one of %s", argocd.EnvLabel, strings.Join(voc.Envs, ", "))
			continue
		case !slices.Contains(voc.Envs, env):
			skip("label %s=%s: not an env of the platform (%s)", argocd.EnvLabel, env, strings.Join(voc.Envs, ", "))
			continue
		}
		c.Env = env
		for _, p := range o.problems {
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: p})
		}
		var unknown []string
		for _, k := range slices.Sorted(maps.Keys(o.labels)) {
			v := o.labels[k]
			switch {
			case k == argocd.EnvLabel:
			case slices.Contains(voc.Bundles, k):
				if v != argocd.BundleEnabled {
					c.LeftOut = append(c.LeftOut, fmt.Sprintf("label %s=%s (a bundle is on with %s=%s)", k, v, k, argocd.BundleEnabled))
					res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf("label %s=%s: bundle %s is enabled by %s=%s only; left off", k, v, k, k, argocd.BundleEnabled)})
					continue
				}
				c.Bundles = append(c.Bundles, k)
			case slices.Contains(voc.Labels, k):
				if c.Labels == nil {
					c.Labels = map[string]string{}
				}
				c.Labels[k] = v
			default:
				unknown = append(unknown, k+"="+v)
			}
		}
		if len(unknown) > 0 {
			c.LeftOut = append(c.LeftOut, plural(len(unknown), "label ", "labels ")+strings.Join(unknown, ", "))
			what := "label " + unknown[0] + " is"
			if len(unknown) > 1 {
				what = "labels " + strings.Join(unknown, ", ") + " are"
			}
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf(
				"%s neither a bundle nor in platform.labels (%s): left out; add %s to platform.labels to keep %s",
				what, strings.Join(voc.Labels, ", "), plural(len(unknown), "it", "them"), plural(len(unknown), "it", "them"))})
		}
		for _, b := range voc.Required {
			if !slices.Contains(c.Bundles, b) {
				res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf(
					"no label %s=%s, but every cluster has bundle %s: its registration will carry that label", b, argocd.BundleEnabled, b)})
			}
		}
		if need := missingNamespaces(c, voc); len(need) > 0 {
			c.ArgoCD.Namespaces = append(slices.Clone(c.ArgoCD.Namespaces), need...)
			quoted := make([]string, len(c.ArgoCD.Namespaces))
			for i, ns := range c.ArgoCD.Namespaces {
				quoted[i] = strconv.Quote(ns)
			}
			res.Problems = append(res.Problems, Problem{Source: o.source, Message: fmt.Sprintf(
				"namespace-scoped: its apps also deploy to %s, which its namespaces do not list: added, so that it compiles; its registration will allow them, with the line `namespaces: [%s]` in argocd of its file",
				strings.Join(need, ", "), strings.Join(quoted, ", "))})
		}
		seen[o.name] = o.source
		res.Clusters = append(res.Clusters, c)
	}
	sort.Slice(res.Clusters, func(i, j int) bool { return res.Clusters[i].Name < res.Clusters[j].Name })
	return res
}

// missingNamespaces are the namespaces the apps of c's bundles deploy
// to that c, restricted to some namespaces, does not list, in the
// catalog's order.
func missingNamespaces(c Cluster, voc Vocabulary) []string {
	if len(c.ArgoCD.Namespaces) == 0 {
		return nil
	}
	var need []string
	for _, a := range voc.Apps {
		on := slices.Contains(c.Bundles, a.Bundle) || slices.Contains(voc.Required, a.Bundle)
		if on && !slices.Contains(c.ArgoCD.Namespaces, a.Namespace) && !slices.Contains(need, a.Namespace) {
			need = append(need, a.Namespace)
		}
	}
	return need
}

// ClusterName derives a valid cluster name (a DNS-1123 label) from
// name, such as a kubeconfig context: lower case, every run of other
// characters a dash, at most 63 characters. "" if nothing is left.
func ClusterName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	s := b.String()
	if len(s) > validation.DNS1123LabelMaxLength {
		s = strings.TrimRight(s[:validation.DNS1123LabelMaxLength], "-")
	}
	return s
}

// checkServer requires what #Server does: an https URL with a host.
func checkServer(server string) error {
	if server == "" {
		return fmt.Errorf("no API server")
	}
	if _, err := argocd.SecretName(server); err != nil {
		return err
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ParseSelector parses a label selector as kubectl's -l takes it, such as
// env=dev or env in (dev,staging),monitoring-basic=enabled. The empty
// selector selects everything.
func ParseSelector(s string) (labels.Selector, error) {
	return labels.Parse(s)
}
