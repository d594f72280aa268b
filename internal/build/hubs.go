package build

import (
	"os"
	"path/filepath"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/placement"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/wire"
)

// hubFiles builds what each hub needs besides its ApplicationSets and
// registrations: its AppProjects (placement.Projects, which also checks
// every Application of m against its project) and its root Application.
// It reads the hand-written directory only to know whether the root
// Applications sync it.
func (b *Platform) hubFiles(pl *Plan, cat *compile.Catalog, m *placement.Matrix, sets []placement.Set) ([]render.File, diag.List, error) {
	p, s := b.Sources, b.Settings
	files := map[string]*load.ClusterFile{}
	for _, c := range p.Clusters {
		files[c.Name] = c
	}
	var clusters []placement.HubCluster
	for _, o := range pl.Fleet {
		hc := placement.HubCluster{Name: o.Cluster, Server: o.Server, Project: o.Project}
		if h := s.Hub(o.Env); h != nil {
			hc.Hub = h.Name
		}
		if f := files[o.Cluster]; f != nil {
			hc.Pos = f.Pos.Position()
			if pf := load.Field(f.Syntax.Decls, load.ClustersField, o.Cluster, "argocd", "project"); pf != nil && o.Project != "" {
				hc.ProjectPos = pf.Value.Pos().Position()
			}
		}
		clusters = append(clusters, hc)
	}
	projects, ds := placement.Projects(placement.ProjectInput{
		Matrix: m, Sets: sets, Clusters: clusters, Settings: s, Project: cat.ApplicationSets.Project,
	})
	if len(ds) > 0 {
		return nil, ds, nil
	}
	handwritten := b.synced(cat)
	revisions := map[string]string{}
	for _, e := range cat.Envs {
		revisions[e.Name] = e.Revisions.Values
	}
	var out []render.File
	for i := range s.Hubs {
		h := &s.Hubs[i]
		rev := compile.HubRevision(h, func(env string) string { return revisions[env] })
		fs, err := render.HubFiles(h, projects[h.Name], render.RootApplication(h, s, rev, handwritten))
		if err != nil {
			return nil, nil, err
		}
		out = append(out, fs...)
	}
	return out, nil, nil
}

// synced is the directory of hand-written ApplicationSets that the hubs'
// root Applications sync: the catalog's, if it is a directory; else "".
func (b *Platform) synced(cat *compile.Catalog) string {
	dir := cat.ApplicationSets.Handwritten
	if fi, err := os.Stat(filepath.Join(b.Sources.Root, filepath.FromSlash(dir))); dir == "" || err != nil || !fi.IsDir() {
		return ""
	}
	return dir
}

// encodeFiles and decodeFiles are how the cache keeps the hub files with
// the checks that passed for the same inputs.
func encodeFiles(files []render.File) []byte {
	b := wire.AppendUvarint(nil, uint64(len(files)))
	for _, f := range files {
		b = wire.AppendBytes(wire.AppendString(b, f.Path), f.Data)
	}
	return b
}

func decodeFiles(b []byte) ([]render.File, bool) {
	r := wire.NewReader(b)
	files := make([]render.File, r.Count())
	for i := range files {
		files[i] = render.File{Path: r.String(), Data: append([]byte(nil), r.Bytes()...)}
	}
	return files, r.Done()
}

// clusterPositions says where each cluster of p is defined.
func clusterPositions(p *load.Platform) func(string) token.Position {
	pos := map[string]token.Position{}
	for _, c := range p.Clusters {
		pos[c.Name] = c.Pos.Position()
	}
	return func(name string) token.Position { return pos[name] }
}
