package importer

import (
	"fmt"
	"strings"
	"testing"

	creds "github.com/fleetc/fleetc/internal/credentials"
)

// TestParseValues: a values file that is not one mapping is an error at
// its file:line:col; an empty one is an empty mapping.
func TestParseValues(t *testing.T) {
	for _, tc := range []struct{ src, err string }{
		{"a: 1\n---\nb: 2\n", "v.yaml:2:1: a second YAML document"},
		{"- a\n- b\n", "v.yaml:1:1: the document is a list, not a mapping"},
		{"just text\n", "v.yaml:1:1: the document is a scalar (!!str), not a mapping"},
		{"a:\n  b: 1\n  b: 2\n", `v.yaml:3:3: key "b" is there twice`},
		{"base: &b {x: 1}\nc:\n  <<: *b\n", "v.yaml:3:3: a merge key (<<)"},
		{"a: .inf\n", "v.yaml:1:4: .inf: CUE has no infinity or NaN"},
		{"a: [1, {b: !!binary aGk=}]\n", ""},
		{"a: !custom x\n", "v.yaml:1:4: a scalar tagged !custom"},
		{"a: b: c\n", "v.yaml: yaml: "},
		{"", ""},
		{"# only a comment\n", ""},
	} {
		v, err := parseValues("v.yaml", []byte(tc.src))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.src, err)
		case tc.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %s...", tc.src, err, tc.err)
		case tc.err == "" && v.kind != kindMap:
			t.Errorf("%q: %v, want a mapping", tc.src, v.describe())
		}
	}
}

// TestEqual: data equality ignores key order, not types.
func TestEqual(t *testing.T) {
	parse := func(s string) *value {
		v, err := parseValues("x", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{"a: 1\nb: [x, {c: d}]\n", "b: [x, {c: d}]\na: 1\n", true},
		{"a: 1\n", "a: 1.0\n", false},
		{"a: 1\n", "a: '1'\n", false},
		{"a: 2024-01-01\n", "a: '2024-01-01'\n", true},
		{"a: [1, 2]\n", "a: [2, 1]\n", false},
		{"a: null\n", "a: ~\n", true},
		{"a: {}\n", "a: []\n", false},
		{"a: 0x10\n", "a: 16\n", true},
	} {
		if got := equal(parse(tc.a), parse(tc.b)); got != tc.eq {
			t.Errorf("equal(%q, %q) = %v", tc.a, tc.b, got)
		}
		if d := diffValues("", parse(tc.a), parse(tc.b)); (d == "") != tc.eq {
			t.Errorf("diffValues(%q, %q) = %q", tc.a, tc.b, d)
		}
	}
}

// TestSettingNames: names from paths, lower camel case, unique, never
// a keyword, never like a credential's name where the key is not.
func TestSettingNames(t *testing.T) {
	g := &appGen{names: map[string]bool{}, dropFirst: true}
	for _, tc := range []struct {
		path   []string
		prefix string
		want   string
	}{
		{[]string{"velero", "schedules", "daily", "template", "ttl"}, "", "templateTtl"},
		{[]string{"velero", "schedules", "weekly", "template", "ttl"}, "", "weeklyTemplateTtl"},
		{[]string{"velero", "backup", "weekly", "template", "ttl"}, "", "backupWeeklyTemplateTtl"},
		{[]string{"velero", "credentials", "existingSecret"}, "", "credentialsExistingSecretSetting"},
		{[]string{"velero", "existingSecret"}, "", "existingSecret"},
		{[]string{"velero", "env", "1", "value"}, "", "env1Value"},
		{[]string{"velero", "tolerations", "0", "matchExpressions", "0", "values", "0"}, "", "matchExpressions0Values0"},
		{[]string{"velero", "string"}, "", "stringValue"},
		{[]string{"velero", "0"}, "", "v0"},
		{[]string{"velero", "schedules-daily", "template", "ttl"}, "", "schedulesDailyTemplateTtl"},
		{[]string{"other", "schedules-daily", "template", "ttl"}, "", "schedulesDailyTemplateTtl2"},
		{[]string{"velero", "podAnnotations"}, "has", "hasPodAnnotations"},
		{[]string{"velero"}, "", "value"},
	} {
		got := g.newName(tc.path, tc.prefix)
		if got != tc.want {
			t.Errorf("newName(%q, %q) = %s, want %s", tc.path, tc.prefix, got, tc.want)
		}
		if _, bad := creds.Check("velero-credentials", got); bad {
			t.Errorf("newName(%q, %q) = %s, which fleetc takes for a credential's name", tc.path, tc.prefix, got)
		}
	}
}

// TestCredentialInValues: a values file with a credential is refused at
// its line, so none ends up in the CUE files.
func TestCredentialInValues(t *testing.T) {
	_, err := parseValues("v.yaml", []byte("db:\n  password: hunter2hunter2\n  existingSecret: db-credentials\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "v.yaml:2:13: ") {
		t.Fatalf("error %v, want one at v.yaml:2:13", err)
	}
}

// BenchmarkDiffValuesEqual: the proof compares every values file, and
// almost all are equal; an equal file costs no allocation.
func BenchmarkDiffValuesEqual(b *testing.B) {
	var sb strings.Builder
	for i := range 30 {
		fmt.Fprintf(&sb, "k%d:\n  image: {repository: r, tag: v%d}\n  list: [a, b, c, d]\n  nested: {x: {y: {z: 1}}}\n", i, i)
	}
	a, err := parse("a", []byte(sb.String()), false)
	if err != nil {
		b.Fatal(err)
	}
	c, _ := parse("a", []byte(sb.String()), false)
	b.ReportAllocs()
	for b.Loop() {
		if d := diffValues("", a, c); d != "" {
			b.Fatal(d)
		}
	}
}
