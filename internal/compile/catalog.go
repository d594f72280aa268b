package compile

import (
	"fmt"
	"sort"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// The CUE paths of the fleet-wide data fleetc reads from the clusters
// package, besides PlatformPath.
var (
	// CatalogPath holds every app of the catalog, keyed by name. It is a
	// definition: an app's values are not concrete without a cluster.
	CatalogPath = cue.ParsePath("#catalog")
	// BundlesPath holds the platform's bundles, keyed by name.
	BundlesPath = cue.ParsePath("bundles")
	// EnvsPath holds the envs, in the order the platform lists them.
	EnvsPath = cue.ParsePath("platform.envs")
	// AppSetsPath holds the settings of the generated ApplicationSets.
	AppSetsPath = cue.ParsePath("platform.applicationSets")
)

// noCatalog says what to do about a clusters package without `#catalog`.
const noCatalog = "the clusters package has no `#catalog` field: the shared file must say `#catalog: defs.#Apps`"

// Catalog is the platform as the fleet-wide steps see it: the apps of the
// catalog without their values, the bundles and envs, and the settings of
// the ApplicationSets that deploy the apps.
type Catalog struct {
	// Apps are sorted by name.
	Apps []CatalogApp
	// Bundles are the bundle names, sorted.
	Bundles []string
	// Envs are in the order platform.envs lists them.
	Envs []Env
	// ApplicationSets are the settings of the generated ApplicationSets.
	ApplicationSets AppSetSettings
}

// CatalogApp is one app of the catalog, as its ApplicationSet needs it.
type CatalogApp struct {
	Name            string
	Bundle          string
	Category        string
	Chart           string
	Namespace       string
	ServerSideApply bool
	// ClusterResources are the cluster-scoped kinds its chart creates
	// (#App.clusterResources; none where the platform's #App has no such
	// field), which its project must permit.
	ClusterResources []argocd.GroupKind
	// Pos is where the app sets its bundle, the line that decides which
	// clusters get it: problems with its ApplicationSet are reported there.
	Pos token.Position
}

// Env is one environment and the git revisions its clusters follow.
type Env struct {
	Name   string
	Branch string
	// Revisions are the revisions its Applications take the catalog and
	// the values repository at: platform.envs.<env>.revisions, or Branch
	// for a repository the platform gives none.
	Revisions Revisions
}

// Revisions are the git revisions of the two repositories; "" is HEAD.
type Revisions struct {
	Catalog, Values string
}

// AppSetSettings are the platform's settings for generated
// ApplicationSets (platform.applicationSets).
type AppSetSettings struct {
	Project    string `json:"project"`
	SyncPolicy struct {
		Prune       bool     `json:"prune"`
		SelfHeal    bool     `json:"selfHeal"`
		SyncOptions []string `json:"syncOptions"`
	} `json:"syncPolicy"`
	PreserveResourcesOnDeletion bool `json:"preserveResourcesOnDeletion"`
	// Handwritten is the directory of hand-written ApplicationSets,
	// relative to the module root.
	Handwritten string `json:"handwritten"`
}

// ReadCatalog evaluates the shared clusters package of p and reads the
// catalog, bundles, envs and ApplicationSet settings from it. Only the
// fields fleetc reads need to be concrete.
func ReadCatalog(p *load.Platform) (*Catalog, error) {
	v := cuecontext.New().BuildInstance(p.Shared)
	if err := v.Err(); err != nil {
		return nil, cueDiags(err)
	}
	shared := p.Shared.Files[0].Pos().Position()
	missing := func(msg string) error {
		return diag.List{{Pos: shared, Message: msg}}
	}
	cat := &Catalog{}
	var errs diag.List

	apps := v.LookupPath(CatalogPath)
	if !apps.Exists() {
		return nil, missing(noCatalog)
	}
	cat.Apps, errs = catalogApps(apps, true)
	if cat.Apps == nil && len(errs) > 0 {
		return nil, errs
	}

	bundles := v.LookupPath(BundlesPath)
	if !bundles.Exists() {
		return nil, missing("the clusters package has no `bundles` field: the shared file must say `bundles: defs.bundles`")
	}
	iter, err := bundles.Fields()
	if err != nil {
		return nil, cueDiags(err)
	}
	for iter.Next() {
		cat.Bundles = append(cat.Bundles, iter.Selector().Unquoted())
	}
	sort.Strings(cat.Bundles)

	if iter, err = v.LookupPath(EnvsPath).Fields(); err != nil {
		return nil, cueDiags(err)
	}
	for iter.Next() {
		env := Env{Name: iter.Selector().Unquoted()}
		if err := iter.Value().LookupPath(cue.ParsePath("branch")).Decode(&env.Branch); err != nil {
			errs = append(errs, cueDiags(err)...)
		}
		errs = append(errs, envRevisions(iter.Value(), &env)...)
		cat.Envs = append(cat.Envs, env)
	}

	as := v.LookupPath(AppSetsPath)
	if !as.Exists() {
		return nil, missing("the platform has no ApplicationSet settings: defs must set platform.applicationSets (project, syncPolicy, preserveResourcesOnDeletion, handwritten)")
	}
	if err := as.Validate(cue.Concrete(true)); err != nil {
		errs = append(errs, cueDiags(err)...)
	} else if err := as.Decode(&cat.ApplicationSets); err != nil {
		errs = append(errs, cueDiags(err)...)
	}
	if len(errs) > 0 {
		return nil, errs.Sorted()
	}
	return cat, nil
}

// envRevisions reads the revisions of env v into env, each the env's
// branch unless v sets it, and checks them where they are set (the branch
// at the branch, if a repository follows it): the defs of a platform need
// not constrain them for fleetc to refuse a revision Argo CD could not
// check out.
func envRevisions(v cue.Value, env *Env) diag.List {
	var errs diag.List
	branchUsed := false
	for _, r := range []struct {
		repo string
		dst  *string
	}{{"catalog", &env.Revisions.Catalog}, {"values", &env.Revisions.Values}} {
		rv := v.LookupPath(cue.MakePath(cue.Str("revisions"), cue.Str(r.repo)))
		if !rv.Exists() {
			*r.dst = env.Branch
			branchUsed = true
			continue
		}
		if err := rv.Decode(r.dst); err != nil {
			errs = append(errs, cueDiags(err)...)
			continue
		}
		if err := argocd.CheckRevision(*r.dst); err != nil {
			errs = append(errs, diag.Diagnostic{Pos: rv.Pos().Position(), Message: fmt.Sprintf("platform.envs.%s.revisions.%s: %v", env.Name, r.repo, err)})
		}
	}
	if err := argocd.CheckRevision(env.Branch); branchUsed && err != nil {
		errs = append(errs, diag.Diagnostic{Pos: v.LookupPath(cue.ParsePath("branch")).Pos().Position(), Message: fmt.Sprintf("platform.envs.%s.branch: %v", env.Name, err)})
	}
	return errs
}

// catalogApps reads what each app of the catalog v (`#catalog`) is, sorted
// by name: bundle, category and chart, which place its values file, and
// namespace and serverSideApply, which its ApplicationSet needs (and
// #Deploy's namespace check, if the platform has one). It reports each of
// them that is wrong or not concrete, where it is set; without appSets,
// the last two may be left out. nil apps means v could not be read at all.
func catalogApps(v cue.Value, appSets bool) ([]CatalogApp, diag.List) {
	iter, err := v.Fields(cue.Definitions(true))
	if err != nil {
		return nil, cueDiags(err)
	}
	apps := []CatalogApp{}
	var errs diag.List
	for iter.Next() {
		a := iter.Value()
		app := CatalogApp{Name: iter.Selector().Unquoted(), Pos: a.LookupPath(cue.ParsePath("bundle")).Pos().Position()}
		fields := []struct {
			field string
			dst   any
			// appSet fields may be left out but for ApplicationSets;
			// optional ones always.
			appSet, optional bool
		}{
			{"bundle", &app.Bundle, false, false},
			{"category", &app.Category, false, false},
			{"chart", &app.Chart, false, false},
			{"namespace", &app.Namespace, true, false},
			{"serverSideApply", &app.ServerSideApply, true, false},
			{"clusterResources", &app.ClusterResources, true, true},
		}
		for _, f := range fields {
			fv := a.LookupPath(cue.MakePath(cue.Str(f.field)))
			if (f.optional || f.appSet && !appSets) && !fv.Exists() {
				continue
			}
			if err := fv.Validate(cue.Concrete(true)); err != nil {
				ds := cueDiags(err)
				if fv.Validate() == nil {
					// Valid but not concrete: it reads the cluster.
					for i := range ds {
						ds[i].Message = fmt.Sprintf("%s of app %s must be the same on every cluster, since it decides the app's ApplicationSet (%s)", f.field, app.Name, ds[i].Message)
					}
				}
				errs = append(errs, ds...)
				continue
			}
			if err := fv.Decode(f.dst); err != nil {
				errs = append(errs, cueDiags(err)...)
			}
		}
		apps = append(apps, app)
	}
	sort.Slice(apps, func(i, j int) bool { return apps[i].Name < apps[j].Name })
	return apps, errs
}

func cueDiags(err error) diag.List {
	return diag.FromCUE(err, "", "", token.NoPos, nil)
}

// EnvNames is the names of the catalog's envs, in order.
func (c *Catalog) EnvNames() []string {
	names := make([]string, len(c.Envs))
	for i, e := range c.Envs {
		names[i] = e.Name
	}
	return names
}
