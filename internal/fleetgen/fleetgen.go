// Package fleetgen writes synthetic fleets for the reference platform:
// deterministic for a seed, with varied bundles and overrides, so that
// benchmarks of fleetc and of the cue CLI compute the same values.
package fleetgen

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// platformDirs are copied from the reference platform: the module, the
// definitions and the shared file of the clusters package. The reference
// clusters themselves are not.
var platformDirs = []string{"cue.mod", "defs"}

// sharedFile is the shared file of the reference clusters package.
const sharedFile = "clusters/platform.cue"

var (
	envs     = []string{"dev", "staging", "prod"}
	regions  = []string{"fra1", "fra2", "ams1", "dub1"}
	teams    = []string{"platform", "payments", "search", "data", "web"}
	optional = []string{"monitoring-basic", "monitoring-medium", "finops-basic", "storage-basic"}
)

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
// says, for tests that need the fleet's shape without compiling it.
type Spec struct {
	Name, Env string
	// Bundles are the optional bundles it enables (OptionalBundles, in
	// that order); the platform's required ones are not written.
	Bundles      []string
	Region, Team string
	// Registry, Retention, ReloaderTag, FalcoDriver and NodeType are its
	// overrides; empty where it keeps the platform's.
	Registry, Retention, ReloaderTag, FalcoDriver, NodeType string
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
	enabled := map[string]bool{}
	for _, bundle := range optional {
		if r.Float64() < 0.85 {
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
	if r.IntN(5) == 0 {
		s.Registry = fmt.Sprintf("pullproxy-%s.corp.local", regions[r.IntN(len(regions))])
	}
	if r.IntN(4) == 0 {
		s.Retention = fmt.Sprintf("%dd", 7*(1+r.IntN(12)))
	}
	if r.IntN(6) == 0 {
		s.ReloaderTag = "v0.68.0"
	}
	if r.IntN(8) == 0 {
		s.FalcoDriver = "ebpf"
	}
	if r.IntN(10) == 0 {
		s.NodeType = "infra"
	}
	return s
}

// Source is the cluster file of s.
func (s Spec) Source() string {
	var b strings.Builder
	fmt.Fprintf(&b, "package clusters\n\nclusters: %q: {\n", s.Name)
	fmt.Fprintf(&b, "\tenv:    %q\n", s.Env)
	fmt.Fprintf(&b, "\tserver: \"https://%s.k8s.corp.local:6443\"\n", s.Name)
	b.WriteString("\tbundles: {\n")
	for _, bundle := range s.Bundles {
		fmt.Fprintf(&b, "\t\t%q: true\n", bundle)
	}
	b.WriteString("\t}\n")
	fmt.Fprintf(&b, "\tlabels: {region: %q, team: %q}\n", s.Region, s.Team)
	if s.Registry != "" {
		fmt.Fprintf(&b, "\tregistry: %q\n", s.Registry)
	}
	if s.Retention != "" {
		fmt.Fprintf(&b, "\tmonitoring: retention: %q\n", s.Retention)
	}
	if s.ReloaderTag != "" {
		fmt.Fprintf(&b, "\tmonitoring: victoriametricsoperator: promconfigreloadimagetag: %q\n", s.ReloaderTag)
	}
	if s.FalcoDriver != "" {
		fmt.Fprintf(&b, "\tsecurity: falco: driver: %q\n", s.FalcoDriver)
	}
	if s.NodeType != "" {
		fmt.Fprintf(&b, "\tnodetype: %q\n", s.NodeType)
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
