package cli

import (
	"runtime/debug"
	"testing"
)

// TestVersionText: what version prints for each way fleetc is built.
func TestVersionText(t *testing.T) {
	cue := &debug.Module{Path: cueModule, Version: "v0.17.1"}
	other := &debug.Module{Path: "github.com/spf13/cobra", Version: "v1.10.2"}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{{
		name: "go install @v0.3.0",
		bi:   &debug.BuildInfo{Main: debug.Module{Path: "github.com/fleetc/fleetc", Version: "v0.3.0"}, Deps: []*debug.Module{other, cue}},
		want: "fleetc v0.3.0\ncue v0.17.1\n",
	}, {
		name: "go install @latest without a release: a pseudo-version",
		bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206030109-5a69565abcde"}, Deps: []*debug.Module{cue}},
		want: "fleetc v0.0.0-20261206030109-5a69565abcde\ncue v0.17.1\n",
	}, {
		name: "make install in a clone with uncommitted changes",
		bi: &debug.BuildInfo{
			Main: debug.Module{Version: "v0.0.0-20261206030109-5a69565abcde+dirty"},
			Deps: []*debug.Module{cue},
			Settings: []debug.BuildSetting{
				{Key: "vcs", Value: "git"},
				{Key: "vcs.revision", Value: "5a69565abcdef0123456789abcdef0123456789a"},
				{Key: "vcs.time", Value: "2026-12-06T03:01:09Z"},
				{Key: "vcs.modified", Value: "true"},
			},
		},
		want: "fleetc v0.0.0-20261206030109-5a69565abcde+dirty\nrevision 5a69565abcdef0123456789abcdef0123456789a 2026-12-06T03:01:09Z dirty\ncue v0.17.1\n",
	}, {
		name: "a clean clone, built without a stamped version",
		bi: &debug.BuildInfo{
			Main: debug.Module{Version: "(devel)"},
			Deps: []*debug.Module{cue},
			Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "5a69565abcdef0123456789abcdef0123456789a"},
				{Key: "vcs.time", Value: "2026-12-06T03:01:09Z"},
				{Key: "vcs.modified", Value: "false"},
			},
		},
		want: "fleetc (devel)\nrevision 5a69565abcdef0123456789abcdef0123456789a 2026-12-06T03:01:09Z\ncue v0.17.1\n",
	}, {
		name: "CUE replaced",
		bi:   &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}, Deps: []*debug.Module{{Path: cueModule, Version: "v0.17.1", Replace: &debug.Module{Path: "../cue", Version: "v0.18.0-alpha.1"}}}},
		want: "fleetc v0.3.0\ncue v0.18.0-alpha.1\n",
	}, {
		name: "no build information",
		want: "fleetc (devel)\ncue unknown\n",
	}} {
		if got := versionText(tc.bi); got != tc.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
