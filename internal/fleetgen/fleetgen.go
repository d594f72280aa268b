// Package fleetgen writes synthetic fleets for the reference platform:
// deterministic for a seed, with varied bundles and overrides, so that
// benchmarks of fleetc and of the cue CLI compute the same values.
package fleetgen

import (
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// platformDirs are copied from the reference platform: the module, the
// definitions and the shared file of the clusters package. The reference
// clusters themselves are not.
var platformDirs = []string{"cue.mod", "defs"}

// sharedFile is the shared file of the reference clusters package.
const sharedFile = "clusters/platform.cue"

var (
	envs      = []string{"dev", "staging", "prod"}
	regions   = []string{"fra1", "fra2", "ams1", "dub1"}
	teams     = []string{"platform", "payments", "search", "data", "web"}
	providers = []string{"tanzu", "kubeadm", "eks"}
	projects  = []string{"payments", "search"}
	optional  = []string{"monitoring-basic", "monitoring-medium", "finops-basic", "storage-basic"}
	required  = []string{"core-basic", "security-basic"}
)

// LongName is the length of the longest generated cluster names: as long
// as an Application name (<cluster>-<app>) allows under label tracking,
// with the reference catalog's longest app name (25 characters,
// victoria-metrics-operator).
const LongName = 63 - 1 - 25

// Generate writes into dir a copy of the reference platform at repo with n
// generated clusters instead of the reference ones. The same seed gives the
// same bytes.
func Generate(repo, dir string, n int, seed uint64) error {
	for _, d := range platformDirs {
		if err := copyDir(filepath.Join(repo, d), filepath.Join(dir, d)); err != nil {
			return err
		}
	}
	if err := copyFile(filepath.Join(repo, sharedFile), filepath.Join(dir, sharedFile)); err != nil {
		return err
	}
	r := NewRand(seed)
	for i := range n {
		name, src := Cluster(r, i)
		if err := os.WriteFile(filepath.Join(dir, "clusters", name+".cue"), []byte(src), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Cluster returns the name and source of the i-th generated cluster.
func Cluster(r *rand.Rand, i int) (string, string) {
	s := NewSpec(r, i)
	return s.Name, s.Source()
}

// Spec is what the i-th generated cluster is, as data: what its file
// says, for tests that need the fleet's shape without compiling it. A
// fleet of a few hundred sets every field of #Cluster somewhere
// (TestEveryField), so that benchmarks pay for every feature of the
// schema, not only the common ones.
type Spec struct {
	Name, Env string
	// Server is the API server: a DNS name with or without a port, an
	// IPv4 or IPv6 address, or a gateway with a path.
	Server string
	// Bundles are the optional bundles it enables (OptionalBundles, in
	// that order); the platform's required ones are not written.
	Bundles []string
	// Region, Team and Provider are its labels (Provider may be empty);
	// Annotations are written in sorted order.
	Region, Team, Provider string
	Annotations            map[string]string
	// Project, Namespaces and ClusterResources are its argocd settings:
	// a namespace-scoped cluster lists the namespaces of the apps it gets.
	Project          string
	Namespaces       []string
	ClusterResources *bool
	// CredentialsKey is where the secret store keeps its credentials;
	// empty where it keeps the platform's path.
	CredentialsKey string
	// The rest are overrides; empty where it keeps the platform's.
	Registry, Retention, ReloaderTag, ConfigReloadTag, Toleration string
	FalcoDriver, NodeType, IngressClass, VeleroBucket             string
}

// OptionalBundles are the bundles of the reference platform that a
// generated cluster may enable; it gets the others, which are required,
// anyway.
func OptionalBundles() []string { return slices.Clone(optional) }

// NewSpec draws the i-th cluster from r. The order of the draws is part of
// what a seed means: changing it changes every generated fleet.
func NewSpec(r *rand.Rand, i int) Spec {
	env := envs[i%len(envs)]
	s := Spec{Name: fmt.Sprintf("c%05d-%s", i, env), Env: env}
	if r.IntN(10) == 0 {
		// A long name, as long as the Application names allow.
		s.Name += "-" + strings.Repeat("x", LongName-len(s.Name)-1)
	}
	switch r.IntN(6) {
	case 0:
		s.Server = fmt.Sprintf("https://10.%d.%d.%d:6443", i>>16&255, i>>8&255, i&255)
	case 1:
		s.Server = fmt.Sprintf("https://[fd00::%x]:6443", i+1)
	case 2:
		s.Server = fmt.Sprintf("https://gateway.k8s.corp.local/clusters/%s", s.Name)
	case 3:
		s.Server = fmt.Sprintf("https://%s.k8s.corp.local", s.Name)
	default:
		s.Server = fmt.Sprintf("https://%s.k8s.corp.local:6443", s.Name)
	}
	enabled := map[string]bool{}
	for _, bundle := range optional {
		if r.Float64() < 0.5 {
			enabled[bundle] = true
		}
	}
	if enabled["monitoring-medium"] {
		enabled["monitoring-basic"] = true
	}
	for _, bundle := range optional {
		if enabled[bundle] {
			s.Bundles = append(s.Bundles, bundle)
		}
	}
	s.Region, s.Team = regions[r.IntN(len(regions))], teams[r.IntN(len(teams))]
	if r.IntN(3) == 0 {
		s.Provider = providers[r.IntN(len(providers))]
	}
	if n := r.IntN(4); n > 0 {
		s.Annotations = map[string]string{}
		for j := range n {
			s.Annotations[fmt.Sprintf("platform.corp.local/note-%d", j)] = fmt.Sprintf("generated %d of cluster %d", j, i)
		}
	}
	if r.IntN(5) == 0 {
		s.Project = projects[r.IntN(len(projects))]
	}
	if r.IntN(8) == 0 {
		// Namespace-scoped: the namespaces of the apps it gets, which are
		// their categories in the reference catalog.
		for _, b := range append(slices.Clone(required), s.Bundles...) {
			ns, _, _ := strings.Cut(b, "-")
			if !slices.Contains(s.Namespaces, ns) {
				s.Namespaces = append(s.Namespaces, ns)
			}
		}
		on := r.IntN(2) == 0
		s.ClusterResources = &on
	}
	if r.IntN(7) == 0 {
		s.CredentialsKey = "vault/kubernetes/" + s.Name
	}
	if r.IntN(5) == 0 {
		s.Registry = fmt.Sprintf("pullproxy-%s.corp.local", regions[r.IntN(len(regions))])
	}
	if r.IntN(4) == 0 {
		s.Retention = fmt.Sprintf("%dd", 7*(1+r.IntN(12)))
	}
	if r.IntN(6) == 0 {
		s.ReloaderTag = "v0.68.0"
	}
	if r.IntN(9) == 0 {
		s.ConfigReloadTag = "v0.12.0"
	}
	if r.IntN(8) == 0 {
		s.FalcoDriver = "ebpf"
	}
	if r.IntN(10) == 0 {
		s.NodeType = "infra"
	}
	if r.IntN(12) == 0 {
		s.Toleration = "monitoring"
	}
	if r.IntN(10) == 0 {
		s.IngressClass = "nginx-internal"
	}
	if r.IntN(9) == 0 {
		s.VeleroBucket = "backup-" + s.Region
	}
	return s
}

// Source is the cluster file of s.
func (s Spec) Source() string {
	var b strings.Builder
	fmt.Fprintf(&b, "package clusters\n\nclusters: %q: {\n", s.Name)
	fmt.Fprintf(&b, "\tenv:    %q\n", s.Env)
	fmt.Fprintf(&b, "\tserver: %q\n", s.Server)
	b.WriteString("\tbundles: {\n")
	for _, bundle := range s.Bundles {
		fmt.Fprintf(&b, "\t\t%q: true\n", bundle)
	}
	b.WriteString("\t}\n")
	fmt.Fprintf(&b, "\tlabels: {region: %q, team: %q", s.Region, s.Team)
	if s.Provider != "" {
		fmt.Fprintf(&b, ", provider: %q", s.Provider)
	}
	b.WriteString("}\n")
	for _, k := range slices.Sorted(maps.Keys(s.Annotations)) {
		fmt.Fprintf(&b, "\tannotations: %q: %q\n", k, s.Annotations[k])
	}
	if s.Project != "" {
		fmt.Fprintf(&b, "\targocd: project: %q\n", s.Project)
	}
	if len(s.Namespaces) > 0 {
		quoted := make([]string, len(s.Namespaces))
		for i, ns := range s.Namespaces {
			quoted[i] = strconv.Quote(ns)
		}
		fmt.Fprintf(&b, "\targocd: namespaces: [%s]\n", strings.Join(quoted, ", "))
	}
	if s.ClusterResources != nil {
		fmt.Fprintf(&b, "\targocd: clusterResources: %t\n", *s.ClusterResources)
	}
	if s.CredentialsKey != "" {
		fmt.Fprintf(&b, "\tcredentials: key: %q\n", s.CredentialsKey)
	}
	for _, o := range []struct{ path, value string }{
		{"registry", s.Registry},
		{"nodetype", s.NodeType},
		{"monitoring: retention", s.Retention},
		{"monitoring: victoriametricsoperator: promconfigreloadimagetag", s.ReloaderTag},
		{"monitoring: victoriametricsoperator: jimmydysonimagetag", s.ConfigReloadTag},
		{"monitoring: victoriametricsoperator: toleration: nodetype", s.Toleration},
		{"core: ingress: className", s.IngressClass},
		{"security: falco: driver", s.FalcoDriver},
		{"storage: velero: bucket", s.VeleroBucket},
	} {
		if o.value != "" {
			fmt.Fprintf(&b, "\t%s: %q\n", o.path, o.value)
		}
	}
	b.WriteString("}\n")
	return b.String()
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

// NewRand is the source of a fleet of the given seed: NewSpec(r, 0),
// NewSpec(r, 1)… with it draw the clusters Generate writes.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c65657463)) }
