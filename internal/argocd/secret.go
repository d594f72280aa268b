// Package argocd describes Argo CD objects as plain data.
//
// fleetc registers clusters with Argo CD by committing, for each cluster, an
// External Secrets Operator ExternalSecret whose target template renders the
// very Secret that `argocd cluster add CONTEXT --label ... --upsert` would
// have created. The committed YAML holds no credentials: the bearer token and
// the CA bundle are read from a secret store when the operator reconciles.
//
// The package only builds values; it neither touches the disk nor prints.
package argocd

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"net/url"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Keys and values that Argo CD itself puts on a cluster Secret.
//
// Argo CD's util/db clusterToSecret stores the cluster under the label
// SecretTypeLabel=SecretTypeCluster and the annotation
// ManagedByAnnotation=ManagedByArgoCD (addSecretMetadata in
// util/db/secrets.go); constant values are in argo-cd's common/common.go.
const (
	// SecretTypeLabel is the label by which Argo CD finds its cluster,
	// repository and credential Secrets.
	SecretTypeLabel = "argocd.argoproj.io/secret-type"
	// SecretTypeCluster is the value of SecretTypeLabel on a cluster Secret.
	SecretTypeCluster = "cluster"
	// ManagedByAnnotation is the (unprefixed) annotation key Argo CD sets on
	// every Secret it writes itself. When it is present with value
	// ManagedByArgoCD, `argocd cluster rm` deletes the Secret; otherwise it only
	// strips SecretTypeLabel.
	ManagedByAnnotation = "managed-by"
	// ManagedByArgoCD is the value of ManagedByAnnotation.
	ManagedByArgoCD = "argocd.argoproj.io"
	// EnvLabel is the label carrying Cluster.Env, as the bash loop's
	// `--label env=<env>` did.
	EnvLabel = "env"
	// BundleEnabled is the value of the label named after each enabled bundle,
	// as the bash loop's `--label <bundle>=enabled` did.
	BundleEnabled = "enabled"
	// SecretType is the type of the cluster Secret. `argocd cluster add`
	// leaves the type empty, which the API server defaults to Opaque.
	SecretType = "Opaque"
)

// Keys of the cluster Secret's data, as read by Argo CD's SecretToCluster.
const (
	// DataName holds the cluster's display name.
	DataName = "name"
	// DataServer holds the API server URL, without trailing slashes.
	DataServer = "server"
	// DataConfig holds the JSON encoding of Argo CD's ClusterConfig.
	DataConfig = "config"
	// DataProject holds the optional Argo CD project.
	DataProject = "project"
	// DataNamespaces holds the optional comma-separated namespace list.
	DataNamespaces = "namespaces"
	// DataClusterResources holds "true" when cluster-scoped resources are
	// managed although Namespaces restricts the cluster.
	DataClusterResources = "clusterResources"
)

// secretNamePrefix is the uriType Argo CD passes for cluster Secrets.
const secretNamePrefix = "cluster"

// Cluster is what fleetc knows of one cluster's registration.
type Cluster struct {
	// Name is the cluster name shown by Argo CD (data key "name"); required.
	Name string
	// Server is the Kubernetes API server URL; it must be https with a host.
	Server string
	// Env is the value of the EnvLabel label; required.
	Env string
	// Bundles are the enabled bundle names, in the order given. Each becomes
	// a label <bundle>: enabled.
	Bundles []string
	// Labels are extra, user-provided labels for the cluster Secret. They
	// may not collide with SecretTypeLabel, EnvLabel or a bundle label.
	Labels map[string]string
	// Annotations are extra, user-provided annotations for the cluster
	// Secret.
	Annotations map[string]string
	// Project is the optional Argo CD project ("" = none).
	Project string
	// Namespaces optionally restricts Argo CD to these namespaces.
	Namespaces []string
	// ClusterResources optionally lets Argo CD manage cluster-scoped
	// resources although Namespaces is set. Like `argocd cluster add
	// --cluster-resources`, only true is written; nil and false both omit
	// the key, which Argo CD reads as false.
	ClusterResources *bool
	// Namespace is the namespace of the Argo CD installation, where both the
	// ExternalSecret and the cluster Secret live, e.g. "argocd".
	Namespace string
	// Store says where the cluster's credentials are kept.
	Store SecretStore
}

// SecretStore locates one cluster's credentials in an External Secrets
// Operator store.
type SecretStore struct {
	// APIVersion is the version of the ExternalSecret API the hub's
	// operator serves: one of ExternalSecretAPIVersions.
	APIVersion string
	// Kind is "SecretStore" or "ClusterSecretStore"; "" leaves it to the
	// operator's default (SecretStore).
	Kind string
	// Name is the name of the store, e.g. "platform-vault".
	Name string
	// Key is the remote path of this cluster's credentials, e.g.
	// "platform/argocd/clusters/<name>".
	Key string
	// TokenProperty is the property under Key that holds the bearer token.
	TokenProperty string
	// CAProperty is the property under Key that holds the cluster CA:
	// the PEM bundle, or it base64-encoded once as kubeconfig's
	// certificate-authority-data (see ConfigTemplate).
	CAProperty string
	// RefreshInterval is how often the operator re-reads the store, as a Go
	// duration such as "1h"; "" leaves it to the operator's default (1h).
	RefreshInterval string
}

// SecretName returns the name `argocd cluster add` gives the Secret of the
// cluster at server: "cluster-<host>-<h>", where h is the decimal 32-bit
// FNV-1a hash of server exactly as given, and host is the URL's host without
// its port, lower-cased, with an IPv6 literal written without brackets and
// with its colons replaced by dashes. server must be an https URL with a
// host, and the result must be a valid Secret name.
func SecretName(server string) (string, error) {
	if err := checkServer(server); err != nil {
		return "", err
	}
	name, err := uriToSecretName(secretNamePrefix, server)
	if err != nil {
		return "", fmt.Errorf("server %q: %w", server, err)
	}
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return "", fmt.Errorf("server %q: secret name %q: %s", server, name, strings.Join(msgs, "; "))
	}
	return name, nil
}

// uriToSecretName follows Argo CD's util/db URIToSecretName for any scheme.
func uriToSecretName(prefix, uri string) (string, error) {
	u, err := url.ParseRequestURI(uri)
	if err != nil {
		return "", err
	}
	host := u.Host
	if strings.HasPrefix(host, "[") {
		// IPv6 literal: Argo CD keeps the address in its canonical form
		// and turns colons into dashes; a port after "]" is dropped.
		if end := strings.Index(host, "]"); end >= 0 {
			addr, err := netip.ParseAddr(host[1:end])
			if err != nil {
				return "", err
			}
			host = strings.ReplaceAll(addr.String(), ":", "-")
		}
	} else if colon := strings.Index(host, ":"); colon >= 0 {
		host = host[:colon]
	}
	h := fnv.New32a()
	h.Write([]byte(uri)) // a hash.Hash never returns an error
	return fmt.Sprintf("%s-%s-%d", prefix, strings.ToLower(host), h.Sum32()), nil
}

// checkServer requires an absolute https URL with a non-empty host.
func checkServer(server string) error {
	u, err := url.Parse(server)
	if err != nil {
		return fmt.Errorf("server %q: %w", server, err)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("server %q: scheme must be https", server)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("server %q: no host", server)
	}
	return nil
}

// Labels returns the labels of the cluster Secret, as plain values:
// SecretTypeLabel=cluster, EnvLabel=c.Env, <bundle>=enabled for each of
// c.Bundles, and c.Labels.
// Every key must be a qualified name and every value a valid label value. An
// extra label that reuses a reserved or bundle key, a bundle named like a
// reserved key, a repeated bundle and an empty Env are errors, each naming
// the offending label.
func Labels(c Cluster) (map[string]string, error) {
	var errs []error
	out := map[string]string{SecretTypeLabel: SecretTypeCluster}
	if c.Env == "" {
		errs = append(errs, fmt.Errorf("label %q: env is empty", EnvLabel))
	} else if msgs := validation.IsValidLabelValue(c.Env); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("label %q: value %q: %s", EnvLabel, c.Env, strings.Join(msgs, "; ")))
	}
	out[EnvLabel] = c.Env

	for _, b := range c.Bundles {
		if msgs := validation.IsQualifiedName(b); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("bundle %q: not a valid label key: %s", b, strings.Join(msgs, "; ")))
			continue
		}
		if why := reservedLabel(b); why != "" {
			errs = append(errs, fmt.Errorf("bundle %q: label key %s", b, why))
			continue
		}
		if _, dup := out[b]; dup {
			errs = append(errs, fmt.Errorf("bundle %q: listed more than once", b))
			continue
		}
		out[b] = BundleEnabled
	}

	for _, k := range sortedKeys(c.Labels) {
		v := c.Labels[k]
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label %q: invalid key: %s", k, strings.Join(msgs, "; ")))
			continue
		}
		if msgs := validation.IsValidLabelValue(v); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("label %q: value %q: %s", k, v, strings.Join(msgs, "; ")))
			continue
		}
		if why := reservedLabel(k); why != "" {
			errs = append(errs, fmt.Errorf("label %q: %s", k, why))
			continue
		}
		if _, isBundle := out[k]; isBundle {
			errs = append(errs, fmt.Errorf("label %q: conflicts with bundle %q (%s=%s)", k, k, k, BundleEnabled))
			continue
		}
		out[k] = v
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// reservedLabel says why key may not be set by the user, or "" if it may.
func reservedLabel(key string) string {
	switch {
	case key == SecretTypeLabel:
		return "is reserved for Argo CD (secret-type)"
	case key == EnvLabel:
		return "is reserved for the cluster's env"
	case strings.HasPrefix(key, esoReservedPrefix):
		return "is reserved for External Secrets Operator"
	}
	return ""
}

// Annotations returns the annotations of the cluster Secret, as plain
// values: c.Annotations plus ManagedByAnnotation=ManagedByArgoCD, which
// `argocd cluster add` sets.
// Keys must be qualified names. Keys Argo CD or the External Secrets
// Operator manage themselves are errors.
func Annotations(c Cluster) (map[string]string, error) {
	var errs []error
	out := map[string]string{ManagedByAnnotation: ManagedByArgoCD}
	for _, k := range sortedKeys(c.Annotations) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("annotation %q: invalid key: %s", k, strings.Join(msgs, "; ")))
			continue
		}
		switch {
		case k == ManagedByAnnotation:
			errs = append(errs, fmt.Errorf("annotation %q: reserved for Argo CD (always %q)", k, ManagedByArgoCD))
			continue
		case k == refreshAnnotation:
			errs = append(errs, fmt.Errorf("annotation %q: reserved for Argo CD (cache refresh requests; `argocd cluster add` removes it)", k))
			continue
		case k == lastAppliedAnnotation:
			errs = append(errs, fmt.Errorf("annotation %q: Argo CD refuses to set it", k))
			continue
		case strings.HasPrefix(k, esoReservedPrefix):
			errs = append(errs, fmt.Errorf("annotation %q: reserved for External Secrets Operator", k))
			continue
		}
		out[k] = c.Annotations[k]
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

const (
	// refreshAnnotation is Argo CD's AnnotationKeyRefresh; clusterToSecret
	// deletes it when no refresh is requested.
	refreshAnnotation = "argocd.argoproj.io/refresh"
	// lastAppliedAnnotation is rejected by Argo CD's clusterToSecret.
	lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"
	// esoReservedPrefix covers the labels and annotations the External
	// Secrets Operator writes on the Secrets it manages
	// (reconcile.external-secrets.io/managed, /created-by, /data-hash).
	esoReservedPrefix = "reconcile.external-secrets.io/"
)
