package importer

import (
	"slices"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// LabelsPath holds the extra labels a cluster may carry, keyed by name.
// The bundles and envs are where compile reads them (compile.BundlesPath,
// compile.EnvsPath).
var LabelsPath = compile.PlatformPath.Append(cue.Str("labels"))

// ReadVocabulary evaluates the shared clusters package of p and reads what
// a cluster file may say.
func ReadVocabulary(p *load.Platform) (Vocabulary, error) {
	v := cuecontext.New().BuildInstance(p.Shared)
	if err := v.Err(); err != nil {
		return Vocabulary{}, diag.FromCUE(err, "", "", token.NoPos, nil).Sorted()
	}
	var voc Vocabulary
	var bundles map[string]struct {
		Required bool `json:"required"`
	}
	var envs map[string]any
	var labels map[string]string
	for _, f := range []struct {
		path cue.Path
		dst  any
	}{{compile.BundlesPath, &bundles}, {compile.EnvsPath, &envs}, {LabelsPath, &labels}} {
		fv := v.LookupPath(f.path)
		if !fv.Exists() {
			return Vocabulary{}, diag.List{{Pos: p.Shared.Files[0].Pos().Position(), Message: "the clusters package has no `" + f.path.String() + "`: the shared file must expose the platform's bundles and settings (bundles: defs.bundles, platform: defs.platform)"}}
		}
		if err := fv.Decode(f.dst); err != nil {
			return Vocabulary{}, diag.FromCUE(err, "", "", token.NoPos, nil).Sorted()
		}
	}
	for name, b := range bundles {
		voc.Bundles = append(voc.Bundles, name)
		if b.Required {
			voc.Required = append(voc.Required, name)
		}
	}
	for name := range envs {
		voc.Envs = append(voc.Envs, name)
	}
	for name := range labels {
		voc.Labels = append(voc.Labels, name)
	}
	for _, s := range [][]string{voc.Bundles, voc.Required, voc.Envs, voc.Labels} {
		slices.Sort(s)
	}
	// What namespace each app deploys to, for clusters restricted to
	// some: a catalog that does not say is not checked here (compile
	// will).
	if iter, err := v.LookupPath(compile.CatalogPath).Fields(cue.Definitions(false)); err == nil {
		for iter.Next() {
			var a struct {
				Bundle    string `json:"bundle"`
				Namespace string `json:"namespace"`
			}
			if iter.Value().LookupPath(cue.ParsePath("bundle")).Decode(&a.Bundle) == nil &&
				iter.Value().LookupPath(cue.ParsePath("namespace")).Decode(&a.Namespace) == nil {
				voc.Apps = append(voc.Apps, App{Name: iter.Selector().Unquoted(), Bundle: a.Bundle, Namespace: a.Namespace})
			}
		}
	}
	return voc, nil
}
