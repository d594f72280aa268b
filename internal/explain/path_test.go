package explain

import (
	"strings"
	"testing"

	"cuelang.org/go/cue/cuecontext"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "a", want: "a"},
		{in: ".a.b", want: "a.b"},
		{in: "victoria-metrics-operator.env[0].value", want: "victoria-metrics-operator.env[0].value"},
		{in: "a.env.0.value", want: "a.env.0.value"},
		{in: "a[0][1].b", want: "a[0][1].b"},
		{in: `grafana.datasources."datasources.yaml".apiVersion`, want: `grafana.datasources."datasources.yaml".apiVersion`},
		{in: `"a\"b".c`, want: `"a\"b".c`},
		{in: "", err: "empty path"},
		{in: "a..b", err: "empty key at offset 3"},
		{in: "a.", err: "ends with a dot"},
		{in: "a[x]", err: `index "x" is not a number`},
		{in: "a[-1]", err: `index "-1" is not a number`},
		{in: "a[0", err: "unterminated ["},
		{in: `"a`, err: "unterminated quote"},
		{in: "a]b", err: `unexpected ']'`},
	} {
		p, err := ParsePath(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePath(%q) = %v, %v; want error containing %q", tc.in, p, err, tc.err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("ParsePath(%q) = %q, %v; want %q", tc.in, p, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	v := cuecontext.New().CompileString(`
		a: {
			env: [{name: "x", value: "1"}, {name: "y", value: "2"}]
			"k.8s": true
			#hidden: 1
			empty: []
		}`)
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "a.env[1].value", want: `"2"`},
		{in: "a.env.1.value", want: `"2"`},
		{in: `a."k.8s"`, want: "true"},
		{in: "a.nope", err: `no key "nope" in a: its keys are env, k.8s, empty`},
		{in: "a.#hidden", err: `no key "#hidden" in a`},
		{in: "a.env[2]", err: "no item [2] in a.env: it has 2 items, [0] to [1]"},
		{in: "a.empty[0]", err: "no item [0] in a.empty: it is empty"},
		{in: "a.env.x", err: "a.env is a list, not a map: write a.env[<index>]"},
		{in: "a[0]", err: "a is a map, not a list"},
		{in: "a.env[0].name.x", err: `a.env[0].name is "x", which has no key "x"`},
	} {
		p, err := ParsePath(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Lookup(v, p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Lookup(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || show(got) != tc.want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", tc.in, show(got), err, tc.want)
		}
	}
}
