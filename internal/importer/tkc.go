package importer

import (
	"encoding/json"
	"fmt"
	"net"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
)

// TKCKind is the kind of a TanzuKubernetesCluster.
const TKCKind = "TanzuKubernetesCluster"

// tkc is the part of a TanzuKubernetesCluster that import reads.
type tkc struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string            `json:"name"`
		Namespace string            `json:"namespace"`
		Labels    map[string]string `json:"labels"`
	} `json:"metadata"`
	Status struct {
		APIEndpoints []struct {
			Host string `json:"host"`
			Port int    `json:"port"`
		} `json:"apiEndpoints"`
	} `json:"status"`
}

// TKC imports the TanzuKubernetesClusters in data, the output of
// `kubectl get tkc -A -o json` (a List) or of one cluster, that sel
// matches. A cluster's env and bundles come from its labels, its server
// from the first API endpoint in its status, and its other labels are
// kept when voc allows them.
func TKC(data []byte, sel labels.Selector, voc Vocabulary) (*Result, error) {
	items, err := items(data, TKCKind)
	if err != nil {
		return nil, err
	}
	var objs []object
	for i, raw := range items {
		var t tkc
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		o := object{
			source:   describe(TKCKind, t.Metadata.Namespace, t.Metadata.Name, i),
			name:     t.Metadata.Name,
			labels:   t.Metadata.Labels,
			selectOn: t.Metadata.Labels,
		}
		switch eps := t.Status.APIEndpoints; {
		case t.Kind != TKCKind:
			o.skip = fmt.Sprintf("kind %q is not %s", t.Kind, TKCKind)
		case len(eps) == 0 || eps[0].Host == "":
			o.skip = "no API endpoint in its status (is it provisioned?)"
		default:
			port := eps[0].Port
			if port == 0 {
				port = 6443
			}
			o.server = "https://" + net.JoinHostPort(eps[0].Host, strconv.Itoa(port))
		}
		objs = append(objs, o)
	}
	return build(TKCKind, objs, sel, voc, nil), nil
}

// items returns the items of a List, or the one object data holds when it
// is of kind single.
func items(data []byte, single string) ([]json.RawMessage, error) {
	var head struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("not the JSON kubectl prints: %w", err)
	}
	if head.Kind == single {
		return []json.RawMessage{data}, nil
	}
	if head.Items == nil {
		return nil, fmt.Errorf("neither a List nor a %s: run kubectl get with -o json", single)
	}
	return head.Items, nil
}

// describe names an object for messages.
func describe(kind, namespace, name string, index int) string {
	switch {
	case name == "":
		return fmt.Sprintf("%s #%d", kind, index)
	case namespace == "":
		return kind + " " + name
	}
	return kind + " " + namespace + "/" + name
}
