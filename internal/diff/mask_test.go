package diff

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	"golang.org/x/tools/txtar"

	"github.com/fleetc/fleetc/internal/argocd"
)

var update = flag.Bool("update", false, "rewrite the golden sections of testdata/mask")

// TestMask runs every case in testdata/mask. A case has a `before` file,
// an `after` file (either may be missing: the file is absent on that
// side), the masked results `want-before` and `want-after`, and, in its
// comment, lines `secret: VALUE` naming values planted in it that must
// appear in neither result and must be among the Secrets of the side
// (`hidden: VALUE` where the side does not parse, so has no Secrets).
func TestMask(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "mask", "*.txtar"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases in testdata/mask: %v", err)
	}
	for _, file := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			before, after := section(ar, "before"), section(ar, "after")
			mb, ma := MaskPair(before, after)
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				directive, secret, _ := strings.Cut(line, ": ")
				if directive != "secret" && directive != "hidden" {
					continue
				}
				if bytes.Contains(mb, []byte(secret)) || bytes.Contains(ma, []byte(secret)) {
					t.Errorf("planted secret %q shows in the masked output", secret)
				}
				if directive == "secret" && !contains(Secrets(before), secret) && !contains(Secrets(after), secret) {
					t.Errorf("planted secret %q is not among the Secrets of either side", secret)
				}
			}
			if *update {
				setSection(ar, "want-before", mb)
				setSection(ar, "want-after", ma)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := section(ar, "want-before"); !bytes.Equal(mb, want) {
				t.Errorf("before masked:\n%s\nwant:\n%s", mb, want)
			}
			if want := section(ar, "want-after"); !bytes.Equal(ma, want) {
				t.Errorf("after masked:\n%s\nwant:\n%s", ma, want)
			}
		})
	}
}

func section(ar *txtar.Archive, name string) []byte {
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	return nil
}

func setSection(ar *txtar.Archive, name string, data []byte) {
	for i, f := range ar.Files {
		if f.Name == name {
			if data == nil {
				ar.Files = append(ar.Files[:i], ar.Files[i+1:]...)
				return
			}
			ar.Files[i].Data = data
			return
		}
	}
	if data != nil {
		ar.Files = append(ar.Files, txtar.File{Name: name, Data: data})
	}
}

// containsPart reports whether s is part of a value in list: text added
// after a planted value may continue it.
func containsPart(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestMaskUnchangedBytes: a file without secrets is compared as it is,
// byte for byte, however it is written.
func TestMaskUnchangedBytes(t *testing.T) {
	in := []byte("# a comment\nfoo:    bar   # trailing\nlist: [a,   b]\n")
	mb, ma := MaskPair(in, in)
	if !bytes.Equal(mb, in) || !bytes.Equal(ma, in) {
		t.Errorf("MaskPair changed a file without secrets:\n%s", mb)
	}
}

// TestMaskConfigTemplate: the config template fleetc writes into an
// ExternalSecret is shown as it is; the same template with a credential
// edited into it is masked whole.
func TestMaskConfigTemplate(t *testing.T) {
	file := func(config string) []byte {
		es := map[string]any{
			"apiVersion": argocd.ExternalSecretsV1,
			"kind":       argocd.ExternalSecretKind,
			"metadata":   map[string]any{"name": "cluster-a"},
			"spec": map[string]any{"target": map[string]any{"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{argocd.SecretTypeLabel: argocd.SecretTypeCluster}},
				"data":     map[string]any{argocd.DataName: "a", argocd.DataConfig: config},
			}}},
		}
		out, err := yaml.Marshal(es)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	edited := strings.Replace(argocd.ConfigTemplate, "{{ toJson $token }}", `"planted-token"`, 1)
	if edited == argocd.ConfigTemplate {
		t.Fatal("the template has no {{ toJson $token }} to edit")
	}
	mb, ma := MaskPair(file(edited), file(argocd.ConfigTemplate))
	if bytes.Contains(mb, []byte("planted")) {
		t.Errorf("the edited template shows:\n%s", mb)
	}
	if !bytes.Contains(ma, []byte("{{ toJson $token }}")) || !bytes.Contains(ma, []byte("regexMatch")) {
		t.Errorf("fleetc's template is masked:\n%s", ma)
	}
}

// TestTemplateRef: only values made of field references are shown.
func TestTemplateRef(t *testing.T) {
	for s, want := range map[string]bool{
		"{{ .token }}":                   true,
		"{{- .caData | b64dec -}}":       true,
		"{{ .a }}{{ .b }}":               true,
		"{{ $x }}":                       true,
		"Bearer {{ .token }}":            false,
		`{{ "hunter2" }}`:                false,
		"{{ .a | default `x` }}":         false,
		"{{ 123456 }}":                   false,
		"{{ .token }}}}s3cret":           false,
		"{{ .token }}\ns3cret":           false,
		"":                               false,
		"s3cret":                         false,
		"{{ .token }} {{ printf .x }} x": false,
	} {
		if got := templateRef.MatchString(s); got != want {
			t.Errorf("templateRef(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzMask checks the property masking exists for: a value planted where
// a credential lives never appears in the masked output of either side,
// however the YAML around it is spelt (kinds and keys quoted, escaped,
// tagged, merged in; anchors and aliases; flow and block style; several
// documents; arbitrary text added), and, when the file parses, it is
// among the file's Secrets so the redactor knows it too.
func FuzzMask(f *testing.F) {
	f.Add("hunter2pass", "s3cretvalue", uint8(0), uint8(0), uint8(0), uint8(0), "")
	f.Add("abcdefgh", "abcdefgi", uint8(3), uint8(4), uint8(2), uint8(1), "copy: *a\n")
	f.Add("tokenvalue1", "tokenvalue2", uint8(4), uint8(1), uint8(3), uint8(2), "kind: ConfigMap\n")
	f.Add("q1w2e3r4", "zzzzzz1", uint8(9), uint8(5), uint8(7), uint8(3), "<<: {kind: Secret}\n")
	f.Fuzz(func(t *testing.T, p1, p2 string, skel, kind, key, enc uint8, extra string) {
		p1, p2 = plantable(p1), plantable(p2)
		s := skeletons[int(skel)%len(skeletons)]
		k := kindSpellings[int(kind)%len(kindSpellings)]
		d := keySpellings[int(key)%len(keySpellings)]
		before := plant(s, k, d, p1, int(enc), extra)
		after := plant(s, k, d, p2, int(enc)+1, extra)
		for _, p := range []string{p1, p2} {
			// The planted value must not occur in the document otherwise.
			if len(p) < 6 || strings.Contains(strings.ToLower(plant(s, k, d, "NEUTRAL", 0, extra)+MaskBefore+MaskAfter+invalidYAML), p) {
				t.Skip()
			}
		}
		mb, ma := MaskPair([]byte(before), []byte(after))
		for _, p := range []string{p1, p2} {
			for _, form := range []string{p, base64.StdEncoding.EncodeToString([]byte(p))} {
				if bytes.Contains(mb, []byte(form)) || bytes.Contains(ma, []byte(form)) {
					t.Fatalf("planted %q shows:\nbefore:\n%s\nmasked before:\n%s\nmasked after:\n%s", p, before, mb, ma)
				}
			}
		}
		if _, err := parse([]byte(before)); err == nil && !containsPart(Secrets([]byte(before)), p1) {
			t.Fatalf("planted %q is not among the Secrets of\n%s", p1, before)
		}
		// One side absent.
		mb, _ = MaskPair([]byte(before), nil)
		if bytes.Contains(mb, []byte(p1)) {
			t.Fatalf("planted %q shows with the other side absent:\n%s", p1, mb)
		}
	})
}

// plantable keeps the letters and digits of s, lowercased: values that
// YAML writes as they are, so a leak would show them verbatim.
func plantable(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Spellings of a Secret's kind and of a key holding secret content.
var (
	kindSpellings = []string{"Secret", `"Secret"`, `'Secret'`, `"\x53ecret"`, "!!str Secret", "ExternalSecret", "SealedSecret", "sECRET", "!!binary U2VjcmV0", `"Sec\u0072et"`}
	keySpellings  = []string{"stringData", `"stringData"`, "StringData", "data", `"d\x61ta"`, "encryptedData", "binaryData", "'data'"}
)

// skeletons are documents with the planted value at secret places: @KIND@
// and @KEY@ stand for the spellings above, @P@ for the encoded value, @B@
// for the value as a block scalar's line, @JP@ inside JSON.
var skeletons = []string{
	"apiVersion: v1\nkind: @KIND@\nmetadata:\n  name: x\n@KEY@:\n  k: @P@\n",
	"{apiVersion: v1, kind: @KIND@, @KEY@: {k: @P@, other: @P@}}\n",
	"base: &b\n  kind: @KIND@\nobj:\n  <<: *b\n  @KEY@:\n    k: @P@\n",
	"kind: @KIND@\n@KEY@:\n  k: &a @P@\nmetadata:\n  annotations:\n    note: *a\n",
	"apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nspec:\n  target:\n    template:\n      metadata:\n        labels:\n          argocd.argoproj.io/secret-type: cluster\n      data:\n        name: c\n        config: '{\"bearerToken\":\"@JP@\",\"tlsClientConfig\":{\"insecure\":false,\"keyData\":\"@JP@\"}}'\n        token: @P@\n  data:\n    - secretKey: token\n      remoteRef: {key: a/b}\n      value: @P@\n",
	"grafana:\n  adminPassword: @P@\n  nested:\n    - apiToken: @P@\n      client_secret: @P@\n",
	"extraObjects:\n  - apiVersion: v1\n    kind: @KIND@\n    @KEY@:\n      k: @P@\n",
	"kind: ConfigMap\ndata: {a: b}\n---\nkind: @KIND@\n@KEY@: {k: @P@}\n",
	"kind: @KIND@\n@KEY@:\n  - @P@\n  - secretKey: x\n    value: @P@\n",
	"kind: @KIND@\n@KEY@:\n  k: |\n    @B@\n  j: >-\n    @B@\n",
	"kind: @KIND@\nx: &m\n  k: @P@\n@KEY@:\n  <<: *m\n",
	"kind: @KIND@\n@KEY@: &d\n  k: @P@\nmetadata:\n  labels: *d\n",
	"kind: @KIND@\n@KEY@:\n  # @B@\n  k: @P@ # @P@\n  # @B@\n",
}

// plant fills a skeleton. enc picks how P is written: plain, quoted,
// escaped or as binary.
func plant(skel, kind, key, p string, enc int, extra string) string {
	var encoded string
	switch enc % 4 {
	case 0:
		encoded = p
	case 1:
		encoded = "'" + p + "'"
	case 2:
		var b strings.Builder
		b.WriteByte('"')
		for _, c := range []byte(p) {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
		b.WriteByte('"')
		encoded = b.String()
	case 3:
		encoded = "!!binary " + base64.StdEncoding.EncodeToString([]byte(p))
	}
	doc := strings.NewReplacer("@KIND@", kind, "@KEY@", key, "@JP@", p, "@B@", p, "@P@", encoded).Replace(skel)
	if extra != "" {
		doc += extra
		if !strings.HasSuffix(extra, "\n") {
			doc += "\n"
		}
	}
	return doc
}

// TestSkeletons: every skeleton, with every spelling, is valid YAML, so
// the fuzz test exercises the walk and not only the parse failure.
func TestSkeletons(t *testing.T) {
	for i, s := range skeletons {
		for _, k := range kindSpellings {
			for _, d := range keySpellings {
				for enc := range 4 {
					doc := plant(s, k, d, "plantedvalue", enc, "")
					if _, err := parse([]byte(doc)); err != nil {
						t.Errorf("skeleton %d is not valid YAML: %v\n%s", i, err, doc)
						continue
					}
					if !contains(Secrets([]byte(doc)), "plantedvalue") {
						t.Errorf("skeleton %d: planted value not among Secrets:\n%s", i, doc)
					}
					mb, _ := MaskPair([]byte(doc), nil)
					if bytes.Contains(mb, []byte("plantedvalue")) {
						t.Errorf("skeleton %d: planted value shows:\n%s\n%s", i, doc, mb)
					}
				}
			}
		}
	}
}

// TestMaskNestedMerges: merge keys nested through anchors reach one node
// from exponentially many paths; masking still visits each node a few
// times. Were it not so, this test would not finish.
func TestMaskNestedMerges(t *testing.T) {
	var b strings.Builder
	b.WriteString("kind: Secret\nl0: &l0 {k: deep-secret-value}\n")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&b, "l%d: &l%d {<<: [*l%d, *l%d], m%d: {<<: *l%d}}\n", i, i, i-1, i-1, i, i-1)
	}
	b.WriteString("data: {<<: *l59}\n")
	mb, _ := MaskPair([]byte(b.String()), nil)
	if bytes.Contains(mb, []byte("deep-secret-value")) {
		t.Errorf("secret merged into data shows:\n%s", mb)
	}
	if envLabel([]byte(b.String())) != "" {
		t.Errorf("envLabel found an env")
	}
}

// TestMaskPin: a PIN, whose key is no credential suffix (pin would match
// spin), is masked like any credential, in a changed file and by the
// redactor; a file that only spins is left alone.
func TestMaskPin(t *testing.T) {
	for _, key := range []string{"pin", "simPin", "sim_pin", `"pin"`} {
		before := []byte("modem:\n  " + key + ": \"1234\"\n")
		after := []byte("modem:\n  " + key + ": \"5678\"\n")
		mb, ma := MaskPair(before, after)
		if bytes.Contains(mb, []byte("1234")) || bytes.Contains(ma, []byte("5678")) {
			t.Errorf("%s: masked %q -> %q, want the PIN hidden", key, mb, ma)
		}
		if got := Secrets(before); len(got) != 1 || got[0] != "1234" {
			t.Errorf("%s: secrets %q, want the PIN", key, got)
		}
	}
	if mightHoldSecret([]byte("spinnaker:\n  mapping: spinning\n")) {
		t.Error("a file that only spins is parsed for secrets")
	}
}
