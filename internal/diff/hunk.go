package diff

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	linediff "github.com/rogpeppe/go-internal/diff"
)

// Hunk is one stretch of changed lines with its context, as in a unified
// diff.
type Hunk struct {
	OldStart int `json:"oldStart"`
	OldLines int `json:"oldLines"`
	NewStart int `json:"newStart"`
	NewLines int `json:"newLines"`
	// Lines start with ' ' (context), '-' (removed) or '+' (added) and have
	// no newline; "\ No newline at end of file" follows a line that lacks
	// one.
	Lines []string `json:"lines"`
}

// Header is the hunk's "@@ -a,b +c,d @@" line.
func (h Hunk) Header() string {
	return fmt.Sprintf("@@ -%s +%s @@", span(h.OldStart, h.OldLines), span(h.NewStart, h.NewLines))
}

func span(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

// unified is the line diff of old and new with three lines of context.
// This is the one place that knows which diff algorithm fleetc uses.
func unified(old, new []byte) []Hunk {
	text := linediff.Diff("old", old, "new", new)
	if text == nil {
		return nil
	}
	var hunks []Hunk
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	for _, l := range lines[3:] { // after "diff", "---" and "+++"
		if strings.HasPrefix(l, "@@ ") {
			var h Hunk
			// The library always writes both counts, even when they are 1.
			if _, err := fmt.Sscanf(l, "@@ -%d,%d +%d,%d @@", &h.OldStart, &h.OldLines, &h.NewStart, &h.NewLines); err != nil {
				panic(fmt.Sprintf("diff: unexpected hunk header %q", l))
			}
			hunks = append(hunks, h)
			continue
		}
		h := &hunks[len(hunks)-1]
		h.Lines = append(h.Lines, l)
	}
	return hunks
}

// ClusterPlaceholder stands for the cluster's name in the path and lines
// of a Group that several clusters share.
const ClusterPlaceholder = "<cluster>"

// Group is a change that several clusters share: the same hunks in the
// same file, read with each cluster's name for ClusterPlaceholder. A
// platform default that moves is one Group, not one copy per cluster.
type Group struct {
	// Path is the file's path; with more than one cluster, it holds
	// ClusterPlaceholder where each has its name.
	Path   string
	Status Status
	Kind   Kind
	// From is the old path of a Renamed file.
	From string
	// Hunks are the lines that change; their line numbers are those of
	// the first cluster. None when only the writing of masked values
	// changes.
	Hunks []Hunk
	// Clusters are the clusters whose file changes this way, by env, prod
	// first. Fleet-wide files have none.
	Clusters []EnvClusters
}

// EnvClusters are clusters of one env, sorted.
type EnvClusters struct {
	Env      string   `json:"env"`
	Clusters []string `json:"clusters"`
}

// Count is the number of clusters in g.
func (g Group) Count() int {
	n := 0
	for _, e := range g.Clusters {
		n += len(e.Clusters)
	}
	return n
}

// group merges the hunks of files that change the same way on several
// clusters once each cluster's name is replaced by ClusterPlaceholder.
// Hunks merge when their removed and added lines are the same; context
// lines may differ (a registry per region), and those that do are shown
// up to where they start to differ, then "…". The replacement of names
// can be undone (a text that already holds the placeholder is never
// merged), so each cluster's own change is exactly the group's with its
// name put back.
func group(files []File, env func(string) string) []Group {
	type member struct {
		cluster   string
		own, norm Hunk
	}
	type hunkGroup struct {
		path, normPath, from string
		status               Status
		kind                 Kind
		members              []member
	}
	byKey := map[string]*hunkGroup{}
	var all []*hunkGroup
	add := func(f File, h Hunk) {
		normPath, norm, ok := f.Path, h, false
		// A renamed file's is its own: it says where it comes from.
		if f.Cluster != "" && f.Status != Renamed {
			normPath, norm, ok = normalize(f, h)
		}
		key := string(f.Status) + "\x00" + normPath + "\x00" + changeKey(norm)
		if !ok {
			key += "\x00" + f.Path // never merged
		}
		g := byKey[key]
		if g == nil {
			g = &hunkGroup{path: f.Path, normPath: normPath, from: f.From, status: f.Status, kind: f.Kind}
			byKey[key] = g
			all = append(all, g)
		}
		g.members = append(g.members, member{f.Cluster, h, norm})
	}
	for _, f := range files {
		if len(f.Hunks) == 0 {
			add(f, Hunk{})
		}
		for _, h := range f.Hunks {
			add(f, h)
		}
	}

	// Hunks of one file shared by the same clusters read as one change.
	type fileKey struct{ normPath, status, clusters string }
	var out []Group
	byFile := map[fileKey]int{}
	for _, g := range all {
		names := make([]string, len(g.members))
		norms := make([]Hunk, len(g.members))
		for i, m := range g.members {
			names[i], norms[i] = m.cluster, m.norm
		}
		hunk, path := g.members[0].own, g.path
		if len(g.members) > 1 {
			hunk, path = merged(norms), g.normPath
		}
		fk := fileKey{g.normPath, string(g.status), strings.Join(names, ",")}
		i, ok := byFile[fk]
		if !ok {
			i = len(out)
			byFile[fk] = i
			out = append(out, Group{Path: path, Status: g.status, Kind: g.kind, From: g.from, Clusters: byEnv(names, env)})
		}
		if hunk.Lines != nil {
			out[i].Hunks = append(out[i].Hunks, hunk)
		}
	}
	sortGroups(out)
	return out
}

// changeKey is what hunks must share to merge: their removed and added
// lines, and where context lines are.
func changeKey(h Hunk) string {
	var b strings.Builder
	for _, l := range h.Lines {
		if strings.HasPrefix(l, " ") {
			l = " "
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

// merged is the first of hunks with the same changeKey, its context lines
// cut to what all of them share.
func merged(hunks []Hunk) Hunk {
	h := hunks[0]
	h.Lines = slices.Clone(h.Lines)
	for i, l := range h.Lines {
		if !strings.HasPrefix(l, " ") {
			continue
		}
		common := l
		for _, o := range hunks[1:] {
			common = commonPrefix(common, o.Lines[i])
		}
		if common != l {
			h.Lines[i] = common + "…"
		}
	}
	return h
}

// commonPrefix is the longest common prefix of a and b, cut at a
// character boundary.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}

// sortGroups orders groups by file (with the cluster's name taken out),
// prod first among the changes to one file, then by position.
func sortGroups(gs []Group) {
	key := func(g Group) (string, string, int, string) {
		p, env, first, line := g.Path, "", "", 0
		if len(g.Clusters) > 0 {
			env, first = g.Clusters[0].Env, g.Clusters[0].Clusters[0]
			if g.Count() == 1 {
				p = replaceName(p, first)
			}
		}
		if len(g.Hunks) > 0 {
			line = g.Hunks[0].OldStart
		}
		return p, env, line, first
	}
	slices.SortStableFunc(gs, func(a, b Group) int {
		pa, ea, la, fa := key(a)
		pb, eb, lb, fb := key(b)
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		if c := compareEnv(ea, eb); c != 0 {
			return c
		}
		if c := cmp.Compare(la, lb); c != 0 {
			return c
		}
		return strings.Compare(fa, fb)
	})
}

// byEnv sorts clusters into envs, prod first.
func byEnv(clusters []string, env func(string) string) []EnvClusters {
	var out []EnvClusters
	for _, c := range clusters {
		if c == "" {
			continue
		}
		e := env(c)
		i := slices.IndexFunc(out, func(x EnvClusters) bool { return x.Env == e })
		if i < 0 {
			out = append(out, EnvClusters{Env: e})
			i = len(out) - 1
		}
		out[i].Clusters = append(out[i].Clusters, c)
	}
	for _, e := range out {
		slices.Sort(e.Clusters)
	}
	slices.SortFunc(out, func(a, b EnvClusters) int { return compareEnv(a.Env, b.Env) })
	return out
}

// normalize replaces f's cluster name in its path and in h's lines by
// ClusterPlaceholder; ok is false when that could not be undone.
func normalize(f File, h Hunk) (string, Hunk, bool) {
	if strings.Contains(f.Path, ClusterPlaceholder) {
		return f.Path, h, false
	}
	out := h
	out.Lines = make([]string, len(h.Lines))
	for i, l := range h.Lines {
		if strings.Contains(l, ClusterPlaceholder) {
			return f.Path, h, false
		}
		out.Lines[i] = replaceName(l, f.Cluster)
	}
	return replaceName(f.Path, f.Cluster), out, true
}

// replaceName replaces name in s by ClusterPlaceholder wherever it stands
// as a word of its own (not inside a longer run of letters and digits), so
// that a short name does not match inside other words. Since s holds no
// placeholder, replacing every placeholder by name gives s back.
func replaceName(s, name string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, name)
		if i < 0 {
			break
		}
		end := i + len(name)
		if (i > 0 && isAlnum(s[i-1])) || (end < len(s) && isAlnum(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(ClusterPlaceholder)
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// PlacementGroup is one app that several clusters get or lose.
type PlacementGroup struct {
	Status   Status
	Category string
	App      string
	// ResourcesKept says the removed Applications leave their resources
	// running.
	ResourcesKept bool
	// Bundles are the bundles that deploy the app, where known; usually
	// one.
	Bundles  []string
	Clusters []EnvClusters
}

// GroupPlacement merges the placement changes of one app: prod first,
// then deletions before creations, then by app.
func GroupPlacement(ps []Placement) []PlacementGroup {
	type key struct {
		status        Status
		category, app string
		kept          bool
	}
	envs := map[string]string{}
	members := map[key][]string{}
	bundles := map[key][]string{}
	var keys []key
	for _, p := range ps {
		k := key{p.Status, p.Category, p.App, p.ResourcesKept}
		if _, ok := members[k]; !ok {
			keys = append(keys, k)
		}
		envs[p.Cluster] = p.Env
		members[k] = append(members[k], p.Cluster)
		if p.Bundle != "" && !slices.Contains(bundles[k], p.Bundle) {
			bundles[k] = append(bundles[k], p.Bundle)
		}
	}
	out := make([]PlacementGroup, 0, len(keys))
	for _, k := range keys {
		slices.Sort(bundles[k])
		out = append(out, PlacementGroup{Status: k.status, Category: k.category, App: k.app, ResourcesKept: k.kept, Bundles: bundles[k],
			Clusters: byEnv(members[k], func(c string) string { return envs[c] })})
	}
	slices.SortFunc(out, func(a, b PlacementGroup) int {
		if c := compareEnv(a.Clusters[0].Env, b.Clusters[0].Env); c != 0 {
			return c
		}
		if a.Status != b.Status {
			if a.Status == Removed {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Category+"/"+a.App, b.Category+"/"+b.App)
	})
	return out
}
