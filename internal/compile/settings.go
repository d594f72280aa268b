package compile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// Settings are the platform-wide settings fleetc reads from the
// `platform` field of the clusters package.
type Settings struct {
	// Output is the output directory relative to the module root.
	Output string `json:"output"`
	ArgoCD struct {
		Namespace string `json:"namespace"`
		// ResourceTrackingMethod is how the hub's Argo CD tracks
		// resources, which bounds the length of Application names.
		ResourceTrackingMethod string `json:"resourceTrackingMethod"`
		// Hubs and Projects are as the platform writes them; see
		// Settings.Hubs and Settings.Projects for what they mean.
		Hubs     map[string]HubSetting     `json:"hubs"`
		Projects map[string]ProjectSetting `json:"projects"`
	} `json:"argocd"`
	SecretStore struct {
		// APIVersion is the ExternalSecret API the hub's operator
		// serves, one of argocd.ExternalSecretAPIVersions.
		APIVersion      string `json:"apiVersion"`
		Kind            string `json:"kind"`
		Name            string `json:"name"`
		PathPrefix      string `json:"pathPrefix"`
		TokenProperty   string `json:"tokenProperty"`
		CAProperty      string `json:"caProperty"`
		RefreshInterval string `json:"refreshInterval"`
	} `json:"secretStore"`
	Repos struct {
		Catalog string `json:"catalog"`
		Values  string `json:"values"`
	} `json:"repos"`
	Labels map[string]string `json:"labels"`
	Envs   map[string]struct {
		Branch string `json:"branch"`
	} `json:"envs"`
	// ApplicationSets.Handwritten is the directory of hand-written
	// ApplicationSets, relative to the module root: no output directory
	// may be, hold or be inside it.
	ApplicationSets struct {
		Handwritten string `json:"handwritten"`
	} `json:"applicationSets"`
	// Hubs are the platform's Argo CD instances, sorted by name, every
	// env on exactly one (hubs.go); Projects the AppProjects it states.
	Hubs     []Hub                    `json:"-"`
	Projects map[string]StatedProject `json:"-"`
}

// trackingPath is where, in the platform settings, the hub's resource
// tracking method is.
var trackingPath = cue.ParsePath("argocd.resourceTrackingMethod")

// storeAPIVersionPath is where, in the platform settings, the
// ExternalSecret API version is.
var storeAPIVersionPath = cue.ParsePath("secretStore.apiVersion")

func trackingMethods() string {
	var names []string
	for _, m := range argocd.TrackingMethods {
		names = append(names, strconv.Quote(string(m)))
	}
	return strings.Join(names, ", ")
}

// ReadSettings evaluates the shared clusters package of p, checks that it
// is valid on its own, and decodes the platform settings.
func ReadSettings(p *load.Platform) (*Settings, error) {
	v := cuecontext.New().BuildInstance(p.Shared)
	if err := v.Err(); err != nil {
		return nil, hintNotAllowed(err, []cue.Value{v, v.LookupPath(CatalogPath)}, nil, diag.FromCUE(err, "", "", token.NoPos, nil)).Sorted()
	}
	// The module's own packages that the shared files import (defs)
	// hold fields no cluster reads directly, such as the platform's
	// defaults: one that breaks its schema would otherwise show up only
	// as an incomplete value on every cluster that keeps it.
	for _, imp := range load.Packages(p.Shared, p.Root) {
		if imp == p.Shared {
			continue
		}
		iv := v.Context().BuildInstance(imp)
		if err := iv.Validate(); err != nil {
			return nil, hintNotAllowed(err, []cue.Value{iv}, nil, diag.FromCUE(err, "", "", token.NoPos, nil)).Sorted()
		}
	}
	pv := v.LookupPath(PlatformPath)
	if !pv.Exists() {
		return nil, diag.List{{Pos: p.Shared.Files[0].Pos().Position(), Message: "the clusters package has no `platform` field: the shared file must say `platform: defs.platform`"}}
	}
	if err := pv.Validate(cue.Concrete(true)); err != nil {
		return nil, hintNotAllowed(err, []cue.Value{v}, nil, diag.FromCUE(err, "", "", token.NoPos, nil)).Sorted()
	}
	var s Settings
	if err := pv.Decode(&s); err != nil {
		return nil, diag.FromCUE(err, "", "", token.NoPos, nil).Sorted()
	}
	if ds := settingsCredentials(pv); ds != nil {
		return nil, ds
	}
	if ds := checkOutput(p, pv, &s); ds != nil {
		return nil, ds
	}
	// A platform whose defs leave the method out of the schema still
	// gets only a value Argo CD knows.
	if m := argocd.TrackingMethod(s.ArgoCD.ResourceTrackingMethod); !m.Valid() {
		pos := pv.LookupPath(trackingPath).Pos().Position()
		return nil, diag.List{{Pos: pos, Message: fmt.Sprintf("platform.argocd.resourceTrackingMethod: %q is none of Argo CD's tracking methods (%s)", m, trackingMethods())}}
	}
	// Likewise, only an ExternalSecret API the operator serves. A
	// platform that does not say gets external-secrets.io/v1, which
	// fleetc wrote before the version was a setting.
	if at := pv.LookupPath(storeAPIVersionPath); !at.Exists() {
		s.SecretStore.APIVersion = argocd.ExternalSecretsV1
	} else if v := s.SecretStore.APIVersion; !slices.Contains(argocd.ExternalSecretAPIVersions, v) {
		return nil, diag.List{{Pos: at.Pos().Position(), Message: fmt.Sprintf("platform.secretStore.apiVersion: %q is not an ExternalSecret API version fleetc writes: want %q (External Secrets Operator 0.16 and later) or %q (before 0.17)", v, argocd.ExternalSecretsV1, argocd.ExternalSecretsV1beta1)}}
	}
	if ds := readHubs(pv, &s); ds != nil {
		return nil, ds
	}
	return &s, nil
}

// LabelNames is the label keys of the platform's vocabulary, in no order.
func (s *Settings) LabelNames() []string {
	names := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		names = append(names, k)
	}
	return names
}
