package argocd

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// Argo CD ApplicationSet constants, as in argo-cd's
// pkg/apis/application/v1alpha1 (applicationset_types.go, types.go).
const (
	// ApplicationSetAPIVersion is the API version of ApplicationSets.
	ApplicationSetAPIVersion = "argoproj.io/v1alpha1"
	// ApplicationSetKind is the kind of ApplicationSet.
	ApplicationSetKind = "ApplicationSet"
	// MissingKeyError makes a Go template fail on a parameter that does not
	// exist, where it would otherwise render "<no value>".
	MissingKeyError = "missingkey=error"
	// ValuesRef is the ref of the values repository among an Application's
	// sources: a value file $valuesRepo/<path> is <path> in it.
	ValuesRef = "valuesRepo"
	// BranchValue is the key of the per-env generator value that holds the
	// revision both sources follow, when every env takes both
	// repositories at the same revision.
	BranchValue = "branch"
	// CatalogRevisionValue and ValuesRevisionValue are the keys of the
	// per-env generator values that hold each source's revision, when
	// the two differ in some env and that source's differs between envs.
	CatalogRevisionValue = "catalogRevision"
	ValuesRevisionValue  = "valuesRevision"
	// CreateNamespaceOption makes Argo CD create the destination namespace.
	CreateNamespaceOption = "CreateNamespace=true"
	// ServerSideApplyOption makes Argo CD apply resources server-side.
	ServerSideApplyOption = "ServerSideApply=true"
)

// Parameters of the cluster generator, in Go template syntax (goTemplate:
// true): the cluster's name and API server from its Secret, and the
// generator's values.
const (
	ClusterNameParam   = "{{.name}}"
	ClusterServerParam = "{{.server}}"
	BranchParam        = "{{.values." + BranchValue + "}}"
)

// ApplicationSet is an argoproj.io/v1alpha1 ApplicationSet, with the fields
// fleetc writes and reads. Fields are declared in the order a manifest is
// read in, so a YAML encoder keeps it; yaml tags carry Argo CD's JSON names.
type ApplicationSet struct {
	APIVersion string             `yaml:"apiVersion" json:"apiVersion"`
	Kind       string             `yaml:"kind" json:"kind"`
	Metadata   ObjectMeta         `yaml:"metadata" json:"metadata"`
	Spec       ApplicationSetSpec `yaml:"spec" json:"spec"`
}

// ApplicationSetSpec is an ApplicationSet's spec.
type ApplicationSetSpec struct {
	GoTemplate        bool                      `yaml:"goTemplate,omitempty" json:"goTemplate,omitempty"`
	GoTemplateOptions []string                  `yaml:"goTemplateOptions,omitempty" json:"goTemplateOptions,omitempty"`
	Generators        []Generator               `yaml:"generators" json:"generators"`
	Template          Template                  `yaml:"template" json:"template"`
	SyncPolicy        *ApplicationSetSyncPolicy `yaml:"syncPolicy,omitempty" json:"syncPolicy,omitempty"`
}

// Generator is one top-level generator. fleetc reads and writes only
// cluster generators; a generator of another kind has Clusters nil.
type Generator struct {
	Clusters *ClusterGenerator `yaml:"clusters,omitempty" json:"clusters,omitempty"`
}

// ClusterGenerator yields one set of parameters per cluster registered with
// Argo CD whose Secret's labels match Selector; an empty selector matches
// every cluster.
type ClusterGenerator struct {
	Selector LabelSelector `yaml:"selector,omitempty" json:"selector,omitempty"`
	// Values are passed to the template as {{.values.<key>}}.
	Values map[string]string `yaml:"values,omitempty" json:"values,omitempty"`
}

// LabelSelector is a Kubernetes label selector (metav1.LabelSelector) with
// YAML names.
type LabelSelector struct {
	MatchLabels      map[string]string  `yaml:"matchLabels,omitempty" json:"matchLabels,omitempty"`
	MatchExpressions []LabelRequirement `yaml:"matchExpressions,omitempty" json:"matchExpressions,omitempty"`
}

// LabelRequirement is one term of a selector's matchExpressions.
type LabelRequirement struct {
	Key      string   `yaml:"key" json:"key"`
	Operator string   `yaml:"operator" json:"operator"`
	Values   []string `yaml:"values,omitempty" json:"values,omitempty"`
}

// Selector operators of matchExpressions, as in metav1.LabelSelectorOperator.
const (
	OpIn           = "In"
	OpNotIn        = "NotIn"
	OpExists       = "Exists"
	OpDoesNotExist = "DoesNotExist"
)

// Selector converts s into what it means, as Argo CD's cluster generator
// does with metav1.LabelSelectorAsSelector (whose rules this follows
// without pulling in the API machinery): every term must hold, and an
// empty selector selects everything. Keys, values and operators are
// validated as the API server would.
func (s LabelSelector) Selector() (labels.Selector, error) {
	sel := labels.NewSelector()
	for _, k := range sortedKeys(s.MatchLabels) {
		r, err := labels.NewRequirement(k, selection.Equals, []string{s.MatchLabels[k]})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	for _, e := range s.MatchExpressions {
		var op selection.Operator
		switch e.Operator {
		case OpIn:
			op = selection.In
		case OpNotIn:
			op = selection.NotIn
		case OpExists:
			op = selection.Exists
		case OpDoesNotExist:
			op = selection.DoesNotExist
		default:
			return nil, fmt.Errorf("%q is not a valid label selector operator (In, NotIn, Exists, DoesNotExist)", e.Operator)
		}
		r, err := labels.NewRequirement(e.Key, op, append([]string(nil), e.Values...))
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*r)
	}
	return sel, nil
}

// Template is the Application an ApplicationSet stamps out per parameter
// set.
type Template struct {
	Metadata TemplateMeta    `yaml:"metadata" json:"metadata"`
	Spec     ApplicationSpec `yaml:"spec" json:"spec"`
}

// TemplateMeta is the metadata of a generated Application.
type TemplateMeta struct {
	Name string `yaml:"name" json:"name"`
}

// ApplicationSpec is an Application's spec, with multiple sources.
type ApplicationSpec struct {
	Project string `yaml:"project" json:"project"`
	// Source is the one source of a single-source Application, as
	// hand-written ApplicationSets may have it.
	Source      *Source     `yaml:"source,omitempty" json:"source,omitempty"`
	Sources     []Source    `yaml:"sources,omitempty" json:"sources,omitempty"`
	Destination Destination `yaml:"destination" json:"destination"`
	SyncPolicy  *SyncPolicy `yaml:"syncPolicy,omitempty" json:"syncPolicy,omitempty"`
}

// AllSources is every source of the spec, single or multiple.
func (s ApplicationSpec) AllSources() []Source {
	if s.Source != nil {
		return append([]Source{*s.Source}, s.Sources...)
	}
	return s.Sources
}

// Source is one source of a multi-source Application: a chart at Path, or,
// with Ref, a repository other sources refer to as $<ref>.
type Source struct {
	RepoURL        string `yaml:"repoURL" json:"repoURL"`
	TargetRevision string `yaml:"targetRevision,omitempty" json:"targetRevision,omitempty"`
	Path           string `yaml:"path,omitempty" json:"path,omitempty"`
	Ref            string `yaml:"ref,omitempty" json:"ref,omitempty"`
	Helm           *Helm  `yaml:"helm,omitempty" json:"helm,omitempty"`
	// Directory makes a source of plain manifests read subdirectories.
	Directory *Directory `yaml:"directory,omitempty" json:"directory,omitempty"`
}

// Directory holds the options of a source of plain manifests.
type Directory struct {
	Recurse bool `yaml:"recurse,omitempty" json:"recurse,omitempty"`
}

// Helm holds the Helm options of a source.
type Helm struct {
	ReleaseName string   `yaml:"releaseName,omitempty" json:"releaseName,omitempty"`
	ValueFiles  []string `yaml:"valueFiles,omitempty" json:"valueFiles,omitempty"`
}

// Destination is the cluster and namespace an Application deploys to.
type Destination struct {
	Server    string `yaml:"server,omitempty" json:"server,omitempty"`
	Name      string `yaml:"name,omitempty" json:"name,omitempty"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
}

// SyncPolicy is an Application's sync policy.
type SyncPolicy struct {
	Automated   *Automated `yaml:"automated,omitempty" json:"automated,omitempty"`
	SyncOptions []string   `yaml:"syncOptions,omitempty" json:"syncOptions,omitempty"`
}

// Automated turns on automated sync.
type Automated struct {
	Prune    bool `yaml:"prune" json:"prune"`
	SelfHeal bool `yaml:"selfHeal" json:"selfHeal"`
}

// ApplicationSetSyncPolicy says how generated Applications relate to their
// ApplicationSet.
type ApplicationSetSyncPolicy struct {
	// PreserveResourcesOnDeletion keeps an Application's resources when
	// the ApplicationSet deletes the Application.
	PreserveResourcesOnDeletion bool `yaml:"preserveResourcesOnDeletion,omitempty" json:"preserveResourcesOnDeletion,omitempty"`
}

// App is what fleetc's ApplicationSet of one catalog app is made from.
type App struct {
	// Name names the ApplicationSet, the Helm release and, after the
	// cluster's name, each generated Application.
	Name string
	// Bundle is the label that, set to BundleEnabled, selects a cluster.
	Bundle string
	// Chart is the chart's path in the catalog repository.
	Chart string
	// Namespace is the destination namespace.
	Namespace string
	// ValuesFile is the path of the per-cluster values file in the values
	// repository, with ClusterNameParam in place of the cluster's name.
	ValuesFile      string
	ServerSideApply bool
}

// AppSetConfig is what every generated ApplicationSet shares.
type AppSetConfig struct {
	// Namespace is the namespace of the Argo CD installation.
	Namespace string
	Project   string
	// CatalogRepo holds the charts; ValuesRepo holds the values files.
	CatalogRepo, ValuesRepo string
	// Envs get one generator each, in this order.
	Envs []EnvRevisions
	// Prune and SelfHeal configure automated sync; SyncOptions apply to
	// every app.
	Prune, SelfHeal             bool
	SyncOptions                 []string
	PreserveResourcesOnDeletion bool
}

// EnvRevisions is an env and the git revision its clusters' Applications
// take each repository at.
type EnvRevisions struct {
	Env string
	// Catalog and Values are the targetRevision of the chart source and
	// of the values source; "" is the repository's HEAD.
	Catalog, Values string
}

// CheckRevision reports why r cannot be an Application source's git
// targetRevision, or nil: r must be "" (HEAD) or a name git accepts for a
// branch or a tag (`git check-ref-format --allow-onelevel`), which also
// covers a commit hash and HEAD; and it may not hold "{{", which the
// ApplicationSet's Go template would take for an action.
func CheckRevision(r string) error {
	if r == "" {
		return nil
	}
	for _, rule := range []struct {
		broken bool
		why    string
	}{
		{strings.ContainsFunc(r, func(c rune) bool { return c <= ' ' || c == 0x7f || strings.ContainsRune(`~^:?*[\`, c) }),
			`holds a space, a control character or one of ~^:?*[\`},
		{r == "@", "is @ alone"},
		{strings.HasPrefix(r, "/") || strings.HasSuffix(r, "/") || strings.Contains(r, "//"), "begins or ends with / or has an empty part"},
		{strings.HasPrefix(r, ".") || strings.Contains(r, "/."), "has a part that begins with a dot"},
		{strings.Contains(r, ".."), "holds .."},
		{strings.HasSuffix(r, "."), "ends with a dot"},
		{strings.HasSuffix(r, ".lock") || strings.Contains(r, ".lock/"), "has a part that ends with .lock"},
		{strings.Contains(r, "@{"), "holds @{"},
	} {
		if rule.broken {
			return fmt.Errorf("%q is not a git branch, tag or commit: it %s", r, rule.why)
		}
	}
	if strings.Contains(r, "{{") {
		return fmt.Errorf("%q holds {{, which the ApplicationSet's template would read as an action", r)
	}
	return nil
}

// sourceRevisions decides how each source of the Application template
// gets its env's revision: the generator values of each env, and the
// targetRevision of the catalog and values sources. When every env takes
// both repositories at the same revision, one value, BranchValue, serves
// both (the output of platforms whose envs follow one branch). Otherwise
// a source whose revision is the same in every env has it written as is,
// and one that differs between envs reads its own value.
func sourceRevisions(envs []EnvRevisions) (values []map[string]string, catalog, valuesRev string) {
	values = make([]map[string]string, len(envs))
	same := true
	for _, e := range envs {
		same = same && e.Catalog == e.Values
	}
	if same {
		for i, e := range envs {
			values[i] = map[string]string{BranchValue: e.Catalog}
		}
		return values, BranchParam, BranchParam
	}
	pick := func(key string, rev func(EnvRevisions) string) string {
		constant := true
		for _, e := range envs {
			constant = constant && rev(e) == rev(envs[0])
		}
		if constant {
			return rev(envs[0])
		}
		for i, e := range envs {
			if values[i] == nil {
				values[i] = map[string]string{}
			}
			values[i][key] = rev(e)
		}
		return "{{.values." + key + "}}"
	}
	catalog = pick(CatalogRevisionValue, func(e EnvRevisions) string { return e.Catalog })
	valuesRev = pick(ValuesRevisionValue, func(e EnvRevisions) string { return e.Values })
	return values, catalog, valuesRev
}

// NewApplicationSet returns the ApplicationSet that deploys app: one
// cluster generator per env, selecting `env: <env>` and
// `<bundle>: enabled` and passing the env's revisions (see
// sourceRevisions), and a Go template of a multi-source Application that
// reads the chart from the catalog and the cluster's values file from the
// values repository, each at its revision.
func NewApplicationSet(app App, cfg AppSetConfig) ApplicationSet {
	set := ApplicationSet{
		APIVersion: ApplicationSetAPIVersion,
		Kind:       ApplicationSetKind,
		Metadata:   ObjectMeta{Name: app.Name, Namespace: cfg.Namespace},
	}
	spec := &set.Spec
	spec.GoTemplate = true
	spec.GoTemplateOptions = []string{MissingKeyError}
	values, catalogRev, valuesRev := sourceRevisions(cfg.Envs)
	for i, e := range cfg.Envs {
		spec.Generators = append(spec.Generators, Generator{Clusters: &ClusterGenerator{
			Selector: LabelSelector{MatchLabels: map[string]string{EnvLabel: e.Env, app.Bundle: BundleEnabled}},
			Values:   values[i],
		}})
	}
	options := append([]string(nil), cfg.SyncOptions...)
	if app.ServerSideApply {
		options = append(options, ServerSideApplyOption)
	}
	var automated *Automated
	if cfg.Prune || cfg.SelfHeal {
		automated = &Automated{Prune: cfg.Prune, SelfHeal: cfg.SelfHeal}
	}
	var policy *SyncPolicy
	if automated != nil || len(options) > 0 {
		policy = &SyncPolicy{Automated: automated, SyncOptions: options}
	}
	spec.Template = Template{
		Metadata: TemplateMeta{Name: ApplicationName(ClusterNameParam, app.Name)},
		Spec: ApplicationSpec{
			Project: cfg.Project,
			Sources: []Source{
				{RepoURL: cfg.ValuesRepo, TargetRevision: valuesRev, Ref: ValuesRef},
				{
					RepoURL: cfg.CatalogRepo, TargetRevision: catalogRev, Path: app.Chart,
					Helm: &Helm{ReleaseName: app.Name, ValueFiles: []string{"values.yaml", "$" + ValuesRef + "/" + app.ValuesFile}},
				},
			},
			Destination: Destination{Server: ClusterServerParam, Namespace: app.Namespace},
			SyncPolicy:  policy,
		},
	}
	if cfg.PreserveResourcesOnDeletion {
		spec.SyncPolicy = &ApplicationSetSyncPolicy{PreserveResourcesOnDeletion: true}
	}
	return set
}

// ApplicationName is the name of the Application that fleetc's
// ApplicationSet of app generates for cluster.
func ApplicationName(cluster, app string) string {
	return fmt.Sprintf("%s-%s", cluster, app)
}
