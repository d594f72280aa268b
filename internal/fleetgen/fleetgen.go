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
	r := newRand(seed)
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
	env := envs[i%len(envs)]
	name := fmt.Sprintf("c%05d-%s", i, env)
	var b strings.Builder
	fmt.Fprintf(&b, "package clusters\n\nclusters: %q: {\n", name)
	fmt.Fprintf(&b, "\tenv:    %q\n", env)
	fmt.Fprintf(&b, "\tserver: \"https://%s.k8s.corp.local:6443\"\n", name)
	enabled := map[string]bool{}
	for _, bundle := range optional {
		if r.Float64() < 0.85 {
			enabled[bundle] = true
		}
	}
	if enabled["monitoring-medium"] {
		enabled["monitoring-basic"] = true
	}
	b.WriteString("\tbundles: {\n")
	for _, bundle := range optional {
		if enabled[bundle] {
			fmt.Fprintf(&b, "\t\t%q: true\n", bundle)
		}
	}
	b.WriteString("\t}\n")
	fmt.Fprintf(&b, "\tlabels: {region: %q, team: %q}\n", regions[r.IntN(len(regions))], teams[r.IntN(len(teams))])
	if r.IntN(5) == 0 {
		fmt.Fprintf(&b, "\tregistry: \"pullproxy-%s.corp.local\"\n", regions[r.IntN(len(regions))])
	}
	if r.IntN(4) == 0 {
		fmt.Fprintf(&b, "\tmonitoring: retention: \"%dd\"\n", 7*(1+r.IntN(12)))
	}
	if r.IntN(6) == 0 {
		b.WriteString("\tmonitoring: victoriametricsoperator: promconfigreloadimagetag: \"v0.68.0\"\n")
	}
	if r.IntN(8) == 0 {
		b.WriteString("\tsecurity: falco: driver: \"ebpf\"\n")
	}
	if r.IntN(10) == 0 {
		b.WriteString("\tnodetype: \"infra\"\n")
	}
	b.WriteString("}\n")
	return name, b.String()
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

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c65657463)) }
