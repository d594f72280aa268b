package diag

import "testing"

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"bundles", "bundles", 0},
		{"bundle", "bundles", 1},  // a letter left out
		{"bundels", "bundles", 1}, // two letters swapped
		{"bunxles", "bundles", 1}, // one letter wrong
		{"enviroment", "env", 7},
		{"gpu-basic", "core-basic", 4},
		{"ça", "ca", 1}, // by runes, not bytes
	} {
		if got := distance(tc.a, tc.b); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := distance(tc.b, tc.a); got != tc.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	cluster := []string{"name", "env", "server", "bundles", "labels", "annotations", "argocd", "credentials", "registry", "nodetype", "monitoring", "core", "security", "storage"}
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string // "" for no suggestion
	}{
		{"bundle", cluster, "bundles"},
		{"bundels", cluster, "bundles"},
		{"Server", cluster, "server"}, // case alone
		{"ENV", cluster, "env"},
		{"SeRvEr", cluster, "server"},
		{"Env", []string{"end", "env"}, "env"}, // case alone is nearer than a letter
		{"X", []string{"x"}, "x"},              // however short
		{"regsitry", cluster, "registry"},
		{"node-type", cluster, "nodetype"},
		{"envs", cluster, "env"},
		// Too far from anything: no guess.
		{"enviroment", cluster, ""},
		{"owner", cluster, ""},
		{"gpu-basic", []string{"core-basic", "security-basic"}, ""},
		// A long name allows more edits: 1 + 15/6 = 3.
		{"jimmydysonimgtg", []string{"jimmydysonimagetag", "promconfigreloadimagetag"}, "jimmydysonimagetag"},
		// A short candidate is not reached by replacing all of it.
		{"ab", []string{"x"}, ""},
		// The name itself is not a suggestion.
		{"env", cluster, ""},
		// Equally near: the first, in the schema's order.
		{"cat", []string{"car", "bat"}, "car"},
		{"x", nil, ""},
	} {
		got, ok := Suggest(tc.name, tc.candidates)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tc.name, got, ok, tc.want)
		}
	}
}
