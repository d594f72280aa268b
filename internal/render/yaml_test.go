package render

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"
	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
)

// TestYAMLQuoting checks the strings YAML would otherwise read as
// something else come back as the same strings.
func TestYAMLQuoting(t *testing.T) {
	for _, s := range []string{
		"yes", "no", "on", "off", "true", "null", "~", "1.0", "0x1F", "1e3", "012",
		"", " leading", "trailing ", "a: b", "- x", "#x", "@x", "`x", "{x}", "[x]",
		"multi\nline\n", "multi\nline", "tab\there", "'quoted'", "\"dq\"", "*alias", "&anchor", "!tag", "%x", "?", "café",
	} {
		ctx := cuecontext.New()
		v := ctx.Encode(map[string]any{"k": s, s: "key"})
		data, err := YAML(v, "")
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var got map[string]any
		if err := yaml.Unmarshal(data, &got); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, data)
		}
		if got["k"] != s || got[s] != "key" {
			t.Errorf("%q did not round-trip:\n%s", s, data)
		}
	}
}

// TestYAML11Quoting: strings a YAML 1.1 reader such as Helm would take
// for booleans or numbers are quoted, as values and as keys, though
// yaml.v3 itself reads them back as strings either way.
func TestYAML11Quoting(t *testing.T) {
	for _, s := range []string{"yes", "No", "on", "OFF", "y", "n", "1:30", "-1:20:00.5"} {
		v := cuecontext.New().Encode(map[string]any{"k": s, s: "v"})
		data, err := YAML(v, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`k: "` + s + `"`, `"` + s + `": v`} {
			if !strings.Contains(string(data), want) {
				t.Errorf("%q: want %s in\n%s", s, want, data)
			}
		}
	}
}

// TestYAMLOrderAndIndent pins the layout: CUE field order, 2-space
// indentation, sequences indented under their key, header comment.
func TestYAMLOrderAndIndent(t *testing.T) {
	v := cuecontext.New().CompileString(`
zeta: 1
alpha: {b: true, a: [1.5, "x", {k: null}]}
empty: {}
none: []
`)
	data, err := YAML(v, "head")
	if err != nil {
		t.Fatal(err)
	}
	want := `# head

zeta: 1
alpha:
  b: true
  a:
    - 1.5
    - x
    - k: null
empty: {}
none: []
`
	if string(data) != want {
		t.Errorf("got:\n%s\nwant:\n%s", data, want)
	}
}

// FuzzYAML checks the property that matters: whatever the strings and
// numbers, the YAML fleetc writes parses back to the same data.
func FuzzYAML(f *testing.F) {
	f.Add("key", "value", int64(1), true, 1.5)
	f.Add("yes", "no", int64(-7), false, -0.25)
	f.Add("a: b", "multi\nline", int64(0), true, 1e21)
	f.Add("", "\t#", int64(9007199254740993), false, 0.1)
	f.Fuzz(func(t *testing.T, key, value string, n int64, b bool, x float64) {
		if !validString(key) || !validString(value) || x != x || x > 1e300 || x < -1e300 {
			t.Skip()
		}
		in := map[string]any{key: value, "n": n, "list": []any{value, b, x}}
		if key == "n" || key == "list" {
			t.Skip()
		}
		v := cuecontext.New().Encode(in)
		if v.Err() != nil {
			t.Skip()
		}
		data, err := YAML(v, "header")
		var leak *compile.LeakError
		if errors.As(err, &leak) {
			t.Skip() // a value that looks like a credential is refused, as it must be
		}
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		var got map[string]any
		if err := yaml.Unmarshal(data, &got); err != nil {
			t.Fatalf("parse back: %v\n%s", err, data)
		}
		want := map[string]any{key: value, "n": int(n), "list": []any{value, b, x}}
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			// YAML reads 2.0 written as 2 as an int; the value is the same.
			want["list"].([]any)[2] = got["list"].([]any)[2]
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\ngot  %#v\nwant %#v\n%s", got, want, data)
		}
	})
}

// validString leaves out what neither CUE nor YAML can carry as text.
func validString(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfeff {
			return false
		}
	}
	return true
}

// FuzzRegistration: a registration written straight by yaml.v3's encoder
// has the bytes of the node-tree path every other file takes, whatever
// the labels, annotations and names hold.
func FuzzRegistration(f *testing.F) {
	f.Add("a", "https://a.example.com:6443", "team", "x", "x.io/y", "z: w", "argocd", "k/a", "1h")
	f.Add("b", "https://b.example.com", "region", "yes", "note", "line one\nline two", "argocd", "k/b", "")
	f.Add("c", "https://c.example.com", "a", "{{ x }}", "n", " lead\ttab ", "argo", "k", "5m")
	// Keys that yaml.v3 orders otherwise than by bytes (numbers by value,
	// letters before other characters), values of several lines and YAML
	// 1.1 words.
	f.Add("d", "https://d.example.com", "env10", "on", "env2", "a\n  b\n", "argocd", "1:30", "")
	f.Add("e", "https://e.example.com", "a-b", "", "a.b", strings.Repeat("long value, ", 20), "n", "k/e", "1h")
	f.Add("f", "https://f.example.com", "Zeta", "0x1F", "_under", "keep\n\n", "argocd", "k", "10")
	f.Fuzz(func(t *testing.T, name, server, lk, lv, ak, av, ns, key, refresh string) {
		c := argocd.Cluster{
			Name: name, Server: server, Env: "dev", Bundles: []string{"core-basic"},
			Labels: map[string]string{lk: lv}, Annotations: map[string]string{ak: av},
			Namespace: ns,
			Store:     argocd.SecretStore{APIVersion: argocd.ExternalSecretsV1, Kind: "ClusterSecretStore", Name: "vault", Key: key, TokenProperty: "token", CAProperty: "ca", RefreshInterval: refresh},
		}
		obj, err := argocd.ExternalSecret(c)
		if err != nil {
			return // not a registration fleetc writes
		}
		header := "Generated by fleetc from clusters/" + name + ".cue. DO NOT EDIT."
		got, err := Registration(c, header)
		if err != nil {
			t.Fatal(err)
		}
		want, err := registrationNode(obj, header)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("written straight:\n%s\nby way of nodes:\n%s", got, want)
		}
		// yaml.v3 itself, for the headers fleetc writes (registrationNode
		// makes others valid UTF-8).
		if v3, err := encodeV3(obj, header); plainHeader(header) && (err != nil || !bytes.Equal(got, v3)) {
			t.Fatalf("written straight:\n%s\nby yaml.v3's encoder (%v):\n%s", got, err, v3)
		}
	})
}

// FuzzProject: an AppProject and a root Application written straight by
// yaml.v3's encoder have the bytes of the node-tree path, whatever their
// names, descriptions, repositories and destinations hold.
func FuzzProject(f *testing.F) {
	f.Add("platform", "the platform's apps", "git@git.corp.local:x/y.git", "https://10.0.0.1:6443", "", "monitoring", "apiextensions.k8s.io", "CustomResourceDefinition")
	f.Add("p", "line one\nline two", "*", "", "in-cluster", "!kube-system", "", "Namespace")
	f.Add("a-b", " lead\ttab ", "{{ x }}", "https://[::1]:6443", "x: y", "'*'", "g", "k")
	f.Add("0", "0", "\n", "0", "0", "0", "", "0")
	f.Fuzz(func(t *testing.T, name, description, repo, server, dest, ns, group, kind string) {
		p := argocd.AppProject{
			APIVersion: "argoproj.io/v1alpha1", Kind: "AppProject",
			Metadata: argocd.ObjectMeta{Name: name, Namespace: "argocd", Annotations: map[string]string{argocd.SyncWaveAnnotation: "-1"}},
			Spec: argocd.AppProjectSpec{
				Description:              description,
				SourceRepos:              []string{repo, repo + "/more"},
				Destinations:             []argocd.ProjectDestination{{Server: server, Name: dest, Namespace: ns}, {Server: server, Namespace: "default"}},
				ClusterResourceWhitelist: []argocd.GroupKind{{Group: group, Kind: kind}},
			},
		}
		root := RootApplication(&compile.Hub{Name: name, Namespace: ns}, &compile.Settings{}, repo, dest)
		for _, obj := range []any{p, root} {
			got, err := objectYAML(obj, hubHeader)
			if err != nil {
				t.Fatal(err)
			}
			if v3, err := encodeV3(obj, hubHeader); err != nil || !bytes.Equal(got, v3) {
				t.Fatalf("written straight:\n%s\nby yaml.v3's encoder (%v):\n%s", got, err, v3)
			}
			// yaml.v3's Node.Encode writes with an indentation of 4 and
			// cannot always read back what it wrote (a sequence item
			// "|4+" block): then only its encoder is the reference.
			var n yaml.Node
			if err := n.Encode(obj); err != nil {
				continue
			}
			want, err := Encode(&n, hubHeader)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("written straight:\n%s\nby way of nodes:\n%s", got, want)
			}
			if v3, err := encodeV3(obj, hubHeader); err != nil || !bytes.Equal(got, v3) {
				t.Fatalf("written straight:\n%s\nby yaml.v3's encoder (%v):\n%s", got, err, v3)
			}
		}
	})
}

// zeroish decides by IsZero whether omitempty leaves it out.
type zeroish struct {
	A string `yaml:"a"`
}

func (z zeroish) IsZero() bool { return z.A == "unset" }

type Embedded struct {
	B string `yaml:"b"`
}

// TestObjectNodeDeclines: what yaml.v3 writes its own way is left to it,
// and encodeDirect still writes yaml.v3's bytes: a type with IsZero, an
// embedded struct, map keys with digits outside ASCII (whose order
// yaml.v3 does not keep from one run to the next).
func TestObjectNodeDeclines(t *testing.T) {
	type withZero struct {
		Name string  `yaml:"name"`
		Z    zeroish `yaml:"z,omitempty"`
	}
	type withEmbedded struct {
		Embedded
		Name string `yaml:"name"`
	}
	for name, obj := range map[string]any{
		"IsZero":   withZero{Name: "n", Z: zeroish{"unset"}},
		"embedded": withEmbedded{Embedded{"x"}, "n"},
		"digits":   argocd.ObjectMeta{Name: "n", Annotations: map[string]string{"0٣٣": "a", "٣00": "b", "٣٣": "c", "x": "d"}},
	} {
		if _, ok := objectNode(reflect.ValueOf(obj)); ok {
			t.Errorf("%s: objectNode took %+v", name, obj)
		}
		got, err := encodeDirect(obj, hubHeader)
		want, werr := encodeV3(obj, hubHeader)
		if err != nil || werr != nil || !bytes.Equal(got, want) && name != "digits" {
			t.Errorf("%s: encodeDirect wrote (%v)\n%s\nyaml.v3 (%v)\n%s", name, err, got, werr, want)
		}
	}
}
