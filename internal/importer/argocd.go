package importer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/fleetc/fleetc/internal/argocd"
)

// SecretKind is the kind of a Kubernetes Secret.
const SecretKind = "Secret"

// secret is the part of a Secret that import reads. Data values stay
// encoded until a key is known to hold no credential.
type secret struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
}

// secretData are the keys of a cluster Secret that import reads. The
// others are left out and named in a problem; `config`, which holds the
// credentials, is never decoded.
var secretData = []string{argocd.DataName, argocd.DataServer, argocd.DataProject, argocd.DataNamespaces, argocd.DataClusterResources}

// ignoredAnnotations are set on a cluster Secret by Argo CD, kubectl or
// the External Secrets Operator rather than by a person; a registration
// never carries them, so they are left out without a word.
var ignoredAnnotations = []string{
	argocd.ManagedByAnnotation,
	"kubectl.kubernetes.io/last-applied-configuration",
	"argocd.argoproj.io/refresh",
}

// ignoredPrefix covers the External Secrets Operator's own annotations.
const ignoredPrefix = "reconcile.external-secrets.io/"

// ArgoCDSecrets imports the Argo CD cluster Secrets in data, the output
// of `kubectl get secrets -l argocd.argoproj.io/secret-type=cluster -o
// json` (a List) or of one Secret, that sel matches. A cluster's name and
// server come from the Secret's data, its env, bundles and other labels
// from its labels, its project, namespaces and clusterResources from its
// data, and its annotations are carried over. Its credentials are not
// read.
func ArgoCDSecrets(data []byte, sel labels.Selector, voc Vocabulary) (*Result, error) {
	return ArgoCDSecretsRenamed(data, sel, voc, nil)
}

// ArgoCDSecretsRenamed is ArgoCDSecrets with clusters imported under the
// names renames gives, by their name in the Secret (--rename OLD=NEW).
func ArgoCDSecretsRenamed(data []byte, sel labels.Selector, voc Vocabulary, renames map[string]string) (*Result, error) {
	items, err := items(data, SecretKind)
	if err != nil {
		return nil, err
	}
	var objs []object
	for i, raw := range items {
		var s secret
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		objs = append(objs, fromSecret(s, describe(SecretKind, s.Metadata.Namespace, s.Metadata.Name, i)))
	}
	return build(SecretKind, objs, sel, voc, renames), nil
}

// fromSecret reads one cluster Secret.
func fromSecret(s secret, source string) object {
	o := object{source: source, selectOn: s.Metadata.Labels, labels: map[string]string{}}
	if s.Kind != SecretKind {
		o.skip = fmt.Sprintf("kind %q is not %s", s.Kind, SecretKind)
		return o
	}
	if t := s.Metadata.Labels[argocd.SecretTypeLabel]; t != argocd.SecretTypeCluster {
		o.skip = fmt.Sprintf("not an Argo CD cluster Secret (label %s=%s)", argocd.SecretTypeLabel, t)
		return o
	}
	values, bad := decode(s)
	if len(bad) > 0 {
		o.skip = fmt.Sprintf("data %s not base64", strings.Join(bad, ", "))
		return o
	}
	o.name, o.server = values[argocd.DataName], values[argocd.DataServer]
	if o.name == "" {
		o.skip = fmt.Sprintf("no data %q", argocd.DataName)
		return o
	}
	o.source = fmt.Sprintf("%s (cluster %s)", source, o.name)
	for k, v := range s.Metadata.Labels {
		if k != argocd.SecretTypeLabel {
			o.labels[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Metadata.Annotations)) {
		if slices.Contains(ignoredAnnotations, k) || strings.HasPrefix(k, ignoredPrefix) {
			continue
		}
		if o.annotations == nil {
			o.annotations = map[string]string{}
		}
		o.annotations[k] = s.Metadata.Annotations[k]
	}
	o.argocd.Project = values[argocd.DataProject]
	if ns := values[argocd.DataNamespaces]; ns != "" {
		o.argocd.Namespaces = strings.Split(ns, ",")
	}
	switch cr := values[argocd.DataClusterResources]; cr {
	case "", "false":
	case "true":
		o.argocd.ClusterResources = true
	default:
		o.leftOut = append(o.leftOut, fmt.Sprintf("data %s=%s", argocd.DataClusterResources, cr))
		o.problems = append(o.problems, fmt.Sprintf("data %s=%q is neither true nor false: left out", argocd.DataClusterResources, cr))
	}
	if others := otherKeys(s); len(others) > 0 {
		o.leftOut = append(o.leftOut, "data "+strings.Join(others, ", "))
		o.problems = append(o.problems, fmt.Sprintf("data %s: no setting of a cluster file: left out", strings.Join(others, ", ")))
	}
	if want, err := argocd.SecretName(o.server); err == nil && want != s.Metadata.Name {
		o.problems = append(o.problems, fmt.Sprintf(
			"its registration will be the Secret %s, as `argocd cluster add` names it, not %s: delete %s once the registration is applied", want, s.Metadata.Name, s.Metadata.Name))
	}
	return o
}

// decode returns the keys of secretData, from stringData where it has
// them (as the API server would merge it) and else decoded from data. It
// never looks at another key.
func decode(s secret) (map[string]string, []string) {
	out := map[string]string{}
	var bad []string
	for _, k := range secretData {
		if v, ok := s.StringData[k]; ok {
			out[k] = v
			continue
		}
		enc, ok := s.Data[k]
		if !ok {
			continue
		}
		v, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			bad = append(bad, k)
			continue
		}
		out[k] = string(v)
	}
	return out, bad
}

// otherKeys lists the data keys import neither reads nor deliberately
// leaves alone.
func otherKeys(s secret) []string {
	var out []string
	for _, m := range []map[string]string{s.Data, s.StringData} {
		for k := range m {
			if k != argocd.DataConfig && !slices.Contains(secretData, k) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}
