package render

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"cuelang.org/go/cue"
	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
	creds "github.com/fleetc/fleetc/internal/credentials"
)

// Layout of the output tree, relative to the output root.
const (
	// ValuesDir holds cluster/<cluster>/<category>/<app>/values.yaml, the
	// path ApplicationSets read as $valuesRepo/<output>/cluster/...
	ValuesDir = "cluster"
	// ClustersDir holds one Argo CD registration per cluster.
	ClustersDir = "argocd/clusters"
)

// ValuesPath is where the values file of app on cluster goes.
func ValuesPath(cluster, category, app string) string {
	return path.Join(ValuesDir, cluster, category, app, "values.yaml")
}

// RegistrationPath is where the Argo CD registration of cluster goes on
// a platform of one hub.
func RegistrationPath(cluster string) string {
	return path.Join(ClustersDir, cluster+".yaml")
}

// RegistrationPathIn is where the registration of cluster goes on the hub
// whose objects are in hubDir (compile.Hub.Dir).
func RegistrationPathIn(hubDir, cluster string) string {
	return path.Join(hubDir, "clusters", cluster+".yaml")
}

// RegistrationOf returns the cluster whose registration p is, on a
// platform of one hub or of several.
func RegistrationOf(p string) (cluster string, ok bool) {
	dir, file := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	name, ok := strings.CutSuffix(file, ".yaml")
	if !ok || name == "" {
		return "", false
	}
	if dir == ClustersDir {
		return name, true
	}
	hub, ok := strings.CutPrefix(dir, compile.HubsDir+"/")
	if hub, ok = strings.CutSuffix(hub, "/clusters"); ok && hub != "" && !strings.Contains(hub, "/") {
		return name, true
	}
	return "", false
}

// OwnedBy reports whether an output path belongs to cluster: what a
// compile of only that cluster may write or prune.
func OwnedBy(cluster, p string) bool {
	c, ok := Owner(p)
	return ok && c == cluster
}

// Owner returns the cluster that an output path belongs to, if one does:
// its registration, or a file below its directory of values files.
func Owner(p string) (cluster string, ok bool) {
	if c, ok := RegistrationOf(p); ok {
		return c, true
	}
	rest, ok := strings.CutPrefix(p, ValuesDir+"/")
	c, _, below := strings.Cut(rest, "/")
	return c, ok && below && c != ""
}

// hubOf is the directory and Argo CD namespace of the hub that registers
// the clusters of env: those of the one hub for settings that name none
// (as tests may build them).
func hubOf(s *compile.Settings, env string) (dir, namespace string) {
	if h := s.Hub(env); h != nil {
		return h.Dir, h.Namespace
	}
	return compile.HubsDir, s.ArgoCD.Namespace
}

// Output is everything one cluster yields: its files, and what fleet-wide
// steps (ApplicationSets, placement, diff) need to know of it without its
// CUE values.
type Output struct {
	Cluster string
	// Source is the cluster's file, relative to the module root.
	Source string
	Env    string
	// Labels are the labels of the cluster's Argo CD Secret: what
	// ApplicationSet cluster generators select on.
	Labels map[string]string
	// Server is the cluster's API server.
	Server string
	// Project is the Argo CD project its registration scopes it to
	// (argocd.project), "" for none.
	Project string
	// Apps are the apps the cluster gets, with the paths of their values
	// files.
	Apps  []AppRef
	Files []File
}

// AppRef names one app deployed to a cluster.
type AppRef struct {
	Name, Bundle, Category string
	// Values is the path of its values file in the output tree.
	Values string
}

// Cluster renders everything one cluster yields: a values file per app and
// its Argo CD registration. root is the module root; headers name the
// cluster file relative to it so the bytes are the same on every machine.
// memo, if not nil, shares values files between the clusters of one
// compile.
func Cluster(c *compile.Cluster, s *compile.Settings, root string, memo *Memo) (*Output, error) {
	source, header := headerOf(c, root)
	out := &Output{Cluster: c.Name, Source: source, Env: c.Env, Server: c.Server, Project: c.ArgoCD.Project}
	out.Files = make([]File, 0, len(c.Apps)+1)
	for _, app := range c.Apps {
		data, err := memo.values(app, header)
		if err != nil {
			return nil, fmt.Errorf("render values of %s/%s: %w", app.Category, app.Name, err)
		}
		p := ValuesPath(c.Name, app.Category, app.Name)
		out.Files = append(out.Files, File{Path: p, Data: data})
		out.Apps = append(out.Apps, AppRef{Name: app.Name, Bundle: app.Bundle, Category: app.Category, Values: p})
	}
	if err := registrationLeak(c); err != nil {
		return nil, err
	}
	reg := ArgoCluster(c, s)
	labels, err := argocd.Labels(reg)
	if err != nil {
		return nil, fmt.Errorf("render Argo CD registration: %w", err)
	}
	out.Labels = labels
	data, err := Registration(reg, header)
	if err != nil {
		return nil, err
	}
	hubDir, _ := hubOf(s, c.Env)
	out.Files = append(out.Files, File{Path: RegistrationPathIn(hubDir, c.Name), Data: data})
	sort.Slice(out.Files, func(i, j int) bool { return out.Files[i].Path < out.Files[j].Path })
	return out, nil
}

// headerOf is the cluster file of c relative to root, slash-separated,
// and the header of the files rendered from it: the same on every machine.
func headerOf(c *compile.Cluster, root string) (source, header string) {
	src, err := filepath.Rel(root, c.File)
	if err != nil {
		src = filepath.Base(c.File)
	}
	source = filepath.ToSlash(src)
	return source, fmt.Sprintf("Generated by fleetc from %s. DO NOT EDIT.", source)
}

// Leak is a *compile.LeakError for the first credential in what Cluster
// would write for c, or nil: for commands that show part of a cluster
// (explain) and must refuse it as compile does.
func Leak(c *compile.Cluster) error {
	for _, app := range c.Apps {
		if _, err := node(app.Values, ""); err != nil {
			var leak *compile.LeakError
			if errors.As(err, &leak) {
				return leak
			}
		}
	}
	return registrationLeak(c)
}

// registrationLeak is a *compile.LeakError for the first credential among
// the cluster's strings that its registration carries: server, labels,
// annotations (keys and values), project, namespaces and store key.
func registrationLeak(c *compile.Cluster) error {
	// Each string, the key it is under (for credentials.Check) and its
	// path in the cluster; keys stand under no key.
	type str struct {
		value, key string
		isKey      bool
		path       []string
	}
	strs := []str{{value: c.Server, path: []string{"server"}}, {value: c.CredentialsKey, path: []string{"credentials", "key"}},
		{value: c.ArgoCD.Project, path: []string{"argocd", "project"}}}
	for _, ns := range c.ArgoCD.Namespaces {
		strs = append(strs, str{value: ns, path: []string{"argocd", "namespaces"}})
	}
	for _, kv := range []struct {
		field string
		m     map[string]string
	}{{"labels", c.Labels}, {"annotations", c.Annotations}} {
		for _, k := range slices.Sorted(maps.Keys(kv.m)) {
			path := []string{kv.field, k}
			strs = append(strs, str{value: k, isKey: true, path: path}, str{value: kv.m[k], key: k, path: path})
		}
	}
	for _, s := range strs {
		f, ok := creds.Check(s.value, s.key)
		if !ok {
			continue
		}
		sels := make([]cue.Selector, len(s.path))
		for i, p := range s.path {
			sels[i] = cue.Str(p)
		}
		v := c.Value.LookupPath(cue.MakePath(sels...))
		return &compile.LeakError{Pos: v.Pos(), Path: v.Path(), Value: s.value, Key: s.isKey, Finding: f}
	}
	return nil
}

// Registration renders the ExternalSecret that yields the cluster's Argo
// CD cluster Secret.
func Registration(c argocd.Cluster, header string) ([]byte, error) {
	obj, err := argocd.ExternalSecret(c)
	if err != nil {
		return nil, fmt.Errorf("render Argo CD registration: %w", err)
	}
	if plainHeader(header) {
		data, err := encodeDirect(obj, header)
		if err != nil {
			return nil, fmt.Errorf("render Argo CD registration: %w", err)
		}
		return data, nil
	}
	return registrationNode(obj, header)
}

// registrationNode renders obj by way of a yaml.v3 node tree, as every
// other file is rendered.
func registrationNode(obj *argocd.ExternalSecretObject, header string) ([]byte, error) {
	var n yaml.Node
	if err := n.Encode(obj); err != nil {
		return nil, fmt.Errorf("render Argo CD registration: %w", err)
	}
	return Encode(&n, header)
}

// ArgoCluster is the registration data of c.
func ArgoCluster(c *compile.Cluster, s *compile.Settings) argocd.Cluster {
	_, namespace := hubOf(s, c.Env)
	return argocd.Cluster{
		Name:             c.Name,
		Server:           c.Server,
		Env:              c.Env,
		Bundles:          c.Bundles,
		Labels:           c.Labels,
		Annotations:      c.Annotations,
		Project:          c.ArgoCD.Project,
		Namespaces:       c.ArgoCD.Namespaces,
		ClusterResources: c.ArgoCD.ClusterResources,
		Namespace:        namespace,
		Store: argocd.SecretStore{
			APIVersion:      s.SecretStore.APIVersion,
			Kind:            s.SecretStore.Kind,
			Name:            s.SecretStore.Name,
			Key:             c.CredentialsKey,
			TokenProperty:   s.SecretStore.TokenProperty,
			CAProperty:      s.SecretStore.CAProperty,
			RefreshInterval: s.SecretStore.RefreshInterval,
		},
	}
}
