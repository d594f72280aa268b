package argocd

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The ExternalSecret API versions fleetc writes. Every field fleetc sets
// means the same in both, so the choice is only what the hub's operator
// serves: platform.secretStore.apiVersion.
const (
	// ExternalSecretsV1 is served by External Secrets Operator 0.16 and
	// later, and alone from 0.17 on.
	ExternalSecretsV1 = "external-secrets.io/v1"
	// ExternalSecretsV1beta1 is served by the operator before 0.17 (0.16
	// serves both).
	ExternalSecretsV1beta1 = "external-secrets.io/v1beta1"
)

// ExternalSecretAPIVersions are the API versions ExternalSecret accepts
// in SecretStore.APIVersion, newest first.
var ExternalSecretAPIVersions = []string{ExternalSecretsV1, ExternalSecretsV1beta1}

// External Secrets Operator API constants used in ExternalSecretObject.
const (
	// ExternalSecretKind is the kind of ExternalSecretObject.
	ExternalSecretKind = "ExternalSecret"

	// CreationPolicyOwner makes the operator create the target Secret if it
	// is missing and, if a Secret of that name already exists, adopt it in
	// place: the operator labels it reconcile.external-secrets.io/managed,
	// sets itself as controller owner, replaces its data with the rendered
	// template and merges the template's labels and annotations into the
	// existing ones. Adoption is refused only when another ExternalSecret is
	// already the controller owner; a Secret made by `argocd cluster add` has
	// no owner, so it is taken over without being deleted and Argo CD never
	// loses the cluster. (Checked in external-secrets'
	// pkg/controllers/externalsecret: the Owner branch of the reconciler
	// creates or updates, and applyOwnership only errs on another
	// ExternalSecret owner.) Deleting the ExternalSecret garbage-collects the
	// Secret, which unregisters the cluster: what removing it from fleetc
	// should do. Labels or annotations the script set and fleetc no longer
	// renders are not removed on takeover, since the operator only prunes
	// keys it has written itself.
	//
	// The alternatives do not fit: Merge never creates a missing Secret,
	// Orphan leaves the Secret behind when the cluster is dropped, and
	// CreateOrMerge (ESO v2.8+) keeps stale data keys of the old Secret.
	CreationPolicyOwner = "Owner"
	// TemplateEngineV2 is the Go text/template engine with sprig functions.
	TemplateEngineV2 = "v2"
	// MergePolicyReplace makes the Secret's data exactly the rendered
	// template.data, so the fetched TokenKey and CADataKey values do not
	// appear as keys of their own. It is the operator's default; fleetc
	// writes it out because correctness depends on it.
	MergePolicyReplace = "Replace"
)

// Names of the values fetched from the store, as seen by the template.
const (
	// TokenKey is the secretKey of the bearer token.
	TokenKey = "token"
	// CADataKey is the secretKey of the CA: PEM, or the PEM base64-encoded
	// as in kubeconfig's certificate-authority-data.
	CADataKey = "caData"
)

// ConfigTemplate is the template of the Secret's "config" value, for the
// operator's v2 engine: Go's text/template with the sprig function library
// (less env and expandenv) over the fetched values as strings, with
// missingkey=error (external-secrets runtime/template/v2). It uses only
// sprig's trim, regexMatch, regexFind, contains, nospace, b64dec, b64enc,
// toJson and fail.
//
// Whatever the store holds, the result is valid JSON or the template fails
// with a message that names the property and never quotes it, so the
// ExternalSecret reports the problem instead of Argo CD dropping the
// cluster ("Failed to convert secret"). The values are taken as inline
// mode (render.InlineSecret) takes them:
//
//   - the token loses surrounding whitespace, such as the newline a token
//     file ends with; what is left must be printable ASCII without spaces,
//     as a JWT or a legacy token is; it is written with toJson, so a quote
//     or a backslash is escaped;
//   - the CA is PEM when it contains "-----BEGIN", and otherwise the PEM
//     base64-encoded, line breaks and spaces allowed, which is decoded; its
//     first PEM type line (a line "-----BEGIN <type>-----", as Go's
//     encoding/pem finds it) must be a CERTIFICATE's, though the
//     certificate itself is not parsed. An empty value leaves caData
//     out: Argo CD then trusts the hub's system roots, as for a cluster
//     whose kubeconfig has no CA.
//
// Rendered, it is byte for byte what Go's encoding/json makes of Argo CD's
// v1alpha1.ClusterConfig for a cluster with only a bearer token and a CA:
// username and password are omitempty and empty; bearerToken comes next;
// the embedded TLSClientConfig has the explicit name tlsClientConfig and is
// never omitted; within it insecure has no omitempty, serverName, certData
// and keyData are empty and omitted, and caData, a []byte, is the standard
// base64 of the PEM (b64enc, which is kubeconfig's
// certificate-authority-data); awsAuthConfig, execProviderConfig,
// disableCompression and proxyUrl are omitted. Template actions trim the
// white space around them, so the line breaks below are not in the result.
const ConfigTemplate = `{{- $token := trim .` + TokenKey + ` -}}
{{- if not (regexMatch "^[!-~]+$" $token) -}}
  {{- fail "` + TokenKey + `: the value in the secret store is empty or holds spaces, control or non-ASCII characters: store the bearer token alone" -}}
{{- end -}}
{{- $ca := .` + CADataKey + ` -}}
{{- if $ca -}}
  {{- if not (contains "-----BEGIN" $ca) -}}
    {{- $ca = b64dec (nospace $ca) -}}
  {{- end -}}
  {{- if not (regexMatch "^-----BEGIN CERTIFICATE-----\\s*$" (regexFind "(?m)^-----BEGIN .*-----\\s*$" $ca)) -}}
    {{- fail "` + CADataKey + `: the value in the secret store is neither a PEM certificate nor its base64 (kubeconfig's certificate-authority-data)" -}}
  {{- end -}}
{{- end -}}
{"bearerToken":{{ toJson $token }},"tlsClientConfig":{"insecure":false{{ if $ca }},"caData":{{ b64enc $ca | toJson }}{{ end }}}}`

// ExternalSecretObject is an External Secrets Operator ExternalSecret. Fields
// are declared in the order a manifest is read in, so a YAML encoder keeps
// it.
type ExternalSecretObject struct {
	// APIVersion is one of ExternalSecretAPIVersions.
	APIVersion string `yaml:"apiVersion" json:"apiVersion"`
	// Kind is always ExternalSecretKind.
	Kind string `yaml:"kind" json:"kind"`
	// Metadata names the ExternalSecret.
	Metadata ObjectMeta `yaml:"metadata" json:"metadata"`
	// Spec says what to fetch and what Secret to render.
	Spec ExternalSecretSpec `yaml:"spec" json:"spec"`
}

// ObjectMeta is the part of Kubernetes object metadata fleetc writes.
type ObjectMeta struct {
	// Name is the object's name.
	Name string `yaml:"name" json:"name"`
	// Namespace is the object's namespace.
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	// Labels are the object's own labels.
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Annotations are the object's own annotations.
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// ExternalSecretSpec is the spec of an ExternalSecret.
type ExternalSecretSpec struct {
	// RefreshInterval is a Go duration; empty means the operator's default.
	RefreshInterval string `yaml:"refreshInterval,omitempty" json:"refreshInterval,omitempty"`
	// SecretStoreRef names the store to read from.
	SecretStoreRef SecretStoreRef `yaml:"secretStoreRef" json:"secretStoreRef"`
	// Target describes the Secret to write.
	Target ExternalSecretTarget `yaml:"target" json:"target"`
	// Data lists the values to fetch.
	Data []ExternalSecretData `yaml:"data" json:"data"`
}

// SecretStoreRef refers to a SecretStore or ClusterSecretStore.
type SecretStoreRef struct {
	// Name is the store's name.
	Name string `yaml:"name" json:"name"`
	// Kind is SecretStore or ClusterSecretStore; empty means SecretStore.
	Kind string `yaml:"kind,omitempty" json:"kind,omitempty"`
}

// ExternalSecretTarget is the Secret an ExternalSecret writes.
type ExternalSecretTarget struct {
	// Name is the Secret's name.
	Name string `yaml:"name" json:"name"`
	// CreationPolicy is CreationPolicyOwner; see there.
	CreationPolicy string `yaml:"creationPolicy" json:"creationPolicy"`
	// Template renders the Secret.
	Template ExternalSecretTemplate `yaml:"template" json:"template"`
}

// ExternalSecretTemplate is the blueprint of the target Secret. Every value
// in Metadata and Data is a Go template.
type ExternalSecretTemplate struct {
	// EngineVersion is TemplateEngineV2.
	EngineVersion string `yaml:"engineVersion" json:"engineVersion"`
	// Type is the Secret's type.
	Type string `yaml:"type" json:"type"`
	// MergePolicy is MergePolicyReplace.
	MergePolicy string `yaml:"mergePolicy" json:"mergePolicy"`
	// Metadata holds the Secret's labels and annotations.
	Metadata TemplateMetadata `yaml:"metadata" json:"metadata"`
	// Data maps each Secret data key to its template.
	Data map[string]string `yaml:"data" json:"data"`
}

// TemplateMetadata is the metadata of the target Secret.
type TemplateMetadata struct {
	// Labels of the Secret (values are templates).
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Annotations of the Secret (values are templates).
	Annotations map[string]string `yaml:"annotations,omitempty" json:"annotations,omitempty"`
}

// ExternalSecretData fetches one value into the template's data.
type ExternalSecretData struct {
	// SecretKey is the name the value has in the template.
	SecretKey string `yaml:"secretKey" json:"secretKey"`
	// RemoteRef locates the value in the store.
	RemoteRef RemoteRef `yaml:"remoteRef" json:"remoteRef"`
}

// RemoteRef locates one value in a secret store.
type RemoteRef struct {
	// Key is the remote secret's path or name.
	Key string `yaml:"key" json:"key"`
	// Property selects one field of the remote secret.
	Property string `yaml:"property,omitempty" json:"property,omitempty"`
}

// TemplateData returns the template.data of c's cluster Secret: the data keys
// `argocd cluster add` writes (name, server, config, and project, namespaces
// and clusterResources when set). Unlike Labels and Annotations, which give
// plain values, every value here is a template: literals are escaped so the
// operator renders them verbatim, and config is ConfigTemplate.
func TemplateData(c Cluster) (map[string]string, error) {
	if err := errors.Join(checkServer(c.Server), checkSecretData(c)); err != nil {
		return nil, err
	}
	data := map[string]string{
		DataName: literal(c.Name),
		// Argo CD hashes the server as given but stores it without
		// trailing slashes.
		DataServer: literal(strings.TrimRight(c.Server, "/")),
		DataConfig: ConfigTemplate,
	}
	if c.Project != "" {
		data[DataProject] = literal(c.Project)
	}
	if len(c.Namespaces) > 0 {
		data[DataNamespaces] = literal(strings.Join(c.Namespaces, ","))
	}
	if c.ClusterResources != nil && *c.ClusterResources {
		data[DataClusterResources] = "true"
	}
	return data, nil
}

// ExternalSecret returns the ExternalSecret that renders c's Argo CD cluster
// Secret: name SecretName(c.Server), type Opaque, labels Labels(c),
// annotations Annotations(c) and data TemplateData(c), with label and
// annotation values escaped for the template engine. The ExternalSecret
// is of API version c.Store.APIVersion, has the Secret's name and lives in
// c.Namespace. All problems with c are
// reported together, prefixed by the cluster's name.
func ExternalSecret(c Cluster) (*ExternalSecretObject, error) {
	var errs []error
	name, err := SecretName(c.Server)
	if err != nil {
		errs = append(errs, err)
	}
	labels, err := Labels(c)
	if err != nil {
		errs = append(errs, err)
	}
	annotations, err := Annotations(c)
	if err != nil {
		errs = append(errs, err)
	}
	// SecretName has checked the server.
	if err := checkSecretData(c); err != nil {
		errs = append(errs, err)
	}
	if c.Namespace == "" {
		errs = append(errs, errors.New("namespace is empty"))
	} else if msgs := validation.IsDNS1123Label(c.Namespace); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("namespace %q: %s", c.Namespace, strings.Join(msgs, "; ")))
	}
	if err := checkStore(c.Store); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, errors.Join(errs...))
	}
	data, err := TemplateData(c)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.Name, err)
	}

	for k, v := range labels {
		labels[k] = literal(v)
	}
	for k, v := range annotations {
		annotations[k] = literal(v)
	}
	return &ExternalSecretObject{
		APIVersion: c.Store.APIVersion,
		Kind:       ExternalSecretKind,
		Metadata:   ObjectMeta{Name: name, Namespace: c.Namespace},
		Spec: ExternalSecretSpec{
			RefreshInterval: c.Store.RefreshInterval,
			SecretStoreRef:  SecretStoreRef{Name: c.Store.Name, Kind: c.Store.Kind},
			Target: ExternalSecretTarget{
				Name:           name,
				CreationPolicy: CreationPolicyOwner,
				Template: ExternalSecretTemplate{
					EngineVersion: TemplateEngineV2,
					Type:          SecretType,
					MergePolicy:   MergePolicyReplace,
					Metadata:      TemplateMetadata{Labels: labels, Annotations: annotations},
					Data:          data,
				},
			},
			Data: []ExternalSecretData{
				{SecretKey: TokenKey, RemoteRef: RemoteRef{Key: c.Store.Key, Property: c.Store.TokenProperty}},
				{SecretKey: CADataKey, RemoteRef: RemoteRef{Key: c.Store.Key, Property: c.Store.CAProperty}},
			},
		},
	}, nil
}

// checkSecretData validates what TemplateData needs apart from the server.
func checkSecretData(c Cluster) error {
	var errs []error
	if c.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if c.Project != "" {
		if msgs := validation.IsDNS1123Subdomain(c.Project); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("project %q: %s", c.Project, strings.Join(msgs, "; ")))
		}
	}
	for _, ns := range c.Namespaces {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("namespaces: %q: %s", ns, strings.Join(msgs, "; ")))
		}
	}
	return errors.Join(errs...)
}

// checkStore validates the secret store reference.
func checkStore(s SecretStore) error {
	var errs []error
	if !slices.Contains(ExternalSecretAPIVersions, s.APIVersion) {
		errs = append(errs, fmt.Errorf("store API version %q: want one of %s", s.APIVersion, strings.Join(ExternalSecretAPIVersions, ", ")))
	}
	switch s.Kind {
	case "", "SecretStore", "ClusterSecretStore":
	default:
		errs = append(errs, fmt.Errorf("store kind %q: must be SecretStore or ClusterSecretStore", s.Kind))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("store name is empty"))
	} else if msgs := validation.IsDNS1123Subdomain(s.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("store name %q: %s", s.Name, strings.Join(msgs, "; ")))
	}
	if s.Key == "" {
		errs = append(errs, errors.New("store key is empty"))
	}
	if s.TokenProperty == "" {
		errs = append(errs, errors.New("store token property is empty"))
	}
	if s.CAProperty == "" {
		errs = append(errs, errors.New("store CA property is empty"))
	}
	if s.RefreshInterval != "" {
		if _, err := time.ParseDuration(s.RefreshInterval); err != nil {
			errs = append(errs, fmt.Errorf("store refresh interval %q: %w", s.RefreshInterval, err))
		}
	}
	return errors.Join(errs...)
}

// literal escapes s for the operator's v2 template engine (text/template
// with the default "{{" "}}" delimiters): each "{{" becomes an action
// printing "{{", and any other text, "}}" included, is already literal.
func literal(s string) string {
	return strings.ReplaceAll(s, "{{", `{{ "{{" }}`)
}

// sortedKeys returns m's keys in order, for deterministic error messages.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
