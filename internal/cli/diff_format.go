package cli

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/fleetc/fleetc/internal/diff"
)

// diffView is what a format needs besides the report.
type diffView struct {
	// before and after name the sides compared.
	before, after string
	// baseCommit is the commit --base resolved to.
	baseCommit string
	// full is the command that shows the whole report.
	full  string
	color bool
}

var diffFormats = map[string]func(io.Writer, *diff.Report, diffView) error{
	"text":     formatText,
	"markdown": formatMarkdown,
	"json":     formatJSON,
}

// maxNames is how many clusters of one env a list names before it says
// "and N more".
const maxNames = 10

// clusterList names clusters by env, prod first: "prod: a, b; dev: c".
func clusterList(envs []diff.EnvClusters, quote func(string) string) string {
	parts := make([]string, len(envs))
	for i, e := range envs {
		names := e.Clusters
		more := ""
		if len(names) > maxNames {
			more = fmt.Sprintf(" and %d more", len(names)-maxNames)
			names = names[:maxNames]
		}
		q := make([]string, len(names))
		for j, n := range names {
			q[j] = quote(n)
		}
		env := e.Env
		if env == "" {
			env = "env unknown"
		}
		parts[i] = env + ": " + strings.Join(q, ", ") + more
	}
	return strings.Join(parts, "; ")
}

// summaryLines are the summary, one line per kind of thing.
func summaryLines(s diff.Summary, quote func(string) string) []string {
	names := func(ns []string) string {
		if len(ns) == 0 {
			return ""
		}
		shown := ns[:min(len(ns), maxNames)]
		q := make([]string, len(shown))
		for i, n := range shown {
			q[i] = quote(n)
		}
		more := ""
		if len(ns) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(ns)-len(shown))
		}
		return " (" + strings.Join(q, ", ") + more + ")"
	}
	clusters := fmt.Sprintf("clusters: %d added%s, %d removed%s, %d changed", len(s.Clusters.Added), names(s.Clusters.Added),
		len(s.Clusters.Removed), names(s.Clusters.Removed), len(s.Clusters.Changed))
	if n := len(s.Clusters.Renamed); n > 0 {
		clusters += fmt.Sprintf(", %d renamed%s", n, names(s.Clusters.Renamed))
	}
	apps := fmt.Sprintf("apps: %d added, %d removed, %d changed", s.Apps.Added, s.Apps.Removed, s.Apps.Changed)
	if s.Apps.Moved > 0 {
		apps += fmt.Sprintf(", %d moved with a renamed cluster", s.Apps.Moved)
	}
	files := fmt.Sprintf("files: %d added, %d removed, %d changed", s.Files.Added, s.Files.Removed, s.Files.Changed)
	if s.Files.Moved > 0 {
		files += fmt.Sprintf(", %d moved with a renamed cluster", s.Files.Moved)
	}
	return []string{
		clusters,
		apps,
		files,
	}
}

// renameLine says in one line what renaming a cluster does in Argo CD:
// its Applications are replaced by ones of the new name, and the
// registration reads its credentials from another key of the store.
func renameLine(r diff.Rename, quote func(string) string) string {
	s := fmt.Sprintf("%s -> %s (%s, same server %s)", quote(r.From), quote(r.To), envName(r.Env), quote(r.Server))
	switch {
	case r.Apps == 0:
	case r.ResourcesKept:
		s += fmt.Sprintf(": its %d %s replaced by ones of the new name, which adopt the resources kept running",
			r.Apps, plural(r.Apps, "Application is", "Applications are"))
	default:
		s += fmt.Sprintf(": its %d %s deleted with their resources and created again under the new name",
			r.Apps, plural(r.Apps, "Application is", "Applications are"))
	}
	switch {
	case r.StoreKeyBefore == "" || r.StoreKeyAfter == "":
	case r.StoreKeyBefore == r.StoreKeyAfter:
		s += fmt.Sprintf("; the registration's store key stays %s (credentials.key)", quote(r.StoreKeyAfter))
	default:
		s += fmt.Sprintf("; the registration's store key moves from %s to %s: put the credentials there first, or set credentials.key to the old one",
			quote(r.StoreKeyBefore), quote(r.StoreKeyAfter))
	}
	return s
}

// anyKept reports whether some removed Application keeps its resources.
func anyKept(ps []diff.PlacementGroup) bool {
	for _, p := range ps {
		if p.Status == diff.Removed && p.ResourcesKept {
			return true
		}
	}
	return false
}

// groupTitle says which file changes how, and on which clusters.
func groupTitle(g diff.Group, quote func(string) string) string {
	n := g.Count()
	switch {
	case n == 0:
		return fmt.Sprintf("%s %s (fleet-wide)", quote(g.Path), g.Status)
	case n == 1 && g.Status == diff.Renamed:
		return fmt.Sprintf("%s renamed from %s (%s)", quote(g.Path), quote(g.From), envName(g.Clusters[0].Env))
	case n == 1:
		return fmt.Sprintf("%s %s (%s)", quote(g.Path), g.Status, envName(g.Clusters[0].Env))
	}
	return fmt.Sprintf("%s %s on %d clusters: %s", quote(g.Path), g.Status, n, clusterList(g.Clusters, quote))
}

func envName(env string) string {
	if env == "" {
		return "env unknown"
	}
	return env
}

func placementVerb(p diff.PlacementGroup) string {
	switch {
	case p.Status != diff.Removed:
		return "created"
	case p.ResourcesKept:
		return "orphaned (resources kept)"
	}
	return "deleted"
}

func plainName(s string) string { return s }

// ANSI colours for text on a terminal.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

// formatText writes the report for a terminal or a log.
func formatText(w io.Writer, r *diff.Report, v diffView) error {
	paint := func(code, s string) string {
		if !v.color {
			return s
		}
		return code + s + ansiReset
	}
	var b strings.Builder
	if r.Empty() {
		fmt.Fprintf(&b, "No changes: %s is what %s gives.\n", v.before, v.after)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%s\n", paint(ansiBold, fmt.Sprintf("fleetc diff: %s -> %s", v.before, v.after)))
	for _, l := range summaryLines(r.Summary, plainName) {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if len(r.Placement) > 0 || len(r.Renames) > 0 {
		placements := diff.GroupPlacement(r.Placement)
		kept := anyKept(placements)
		title := "Placement: Argo CD Applications created (+) or deleted (-), prod first"
		if kept {
			title = "Placement: Argo CD Applications created (+) or removed (-), prod first"
		}
		fmt.Fprintf(&b, "\n%s\n", paint(ansiBold, title))
		for _, rn := range r.Renames {
			fmt.Fprintf(&b, "%s\n", paint(ansiCyan, "  ~ renamed "+renameLine(rn, plainName)))
		}
		for _, p := range placements {
			sign, code := "+", ansiGreen
			if p.Status == diff.Removed {
				sign, code = "-", ansiRed
			}
			where := placementWhere(p, plainName)
			if kept && p.Status == diff.Removed {
				where += ": " + placementVerb(p)
			}
			fmt.Fprintf(&b, "%s %s\n", paint(code, fmt.Sprintf("  %s %s/%s", sign, p.Category, p.App)), where)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", paint(ansiBold, "Changes"))
	for _, g := range r.Groups {
		fmt.Fprintf(&b, "\n%s\n", paint(ansiBold, groupTitle(g, plainName)))
		if note := hunkNote(g); note != "" {
			b.WriteString("  " + note + "\n")
			continue
		}
		for _, h := range g.Hunks {
			b.WriteString(paint(ansiCyan, h.Header()) + "\n")
			for _, l := range h.Lines {
				switch {
				case strings.HasPrefix(l, "-"):
					l = paint(ansiRed, l)
				case strings.HasPrefix(l, "+"):
					l = paint(ansiGreen, l)
				}
				b.WriteString(l + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// hunkNote stands for the lines of a group that are not worth showing: a
// removed file (what it held is in the base; that it goes is the news),
// or a change only in how masked values are written.
func hunkNote(g diff.Group) string {
	switch {
	case len(g.Hunks) == 0 && g.Status == diff.Renamed:
		return "(the same but for the cluster's name)"
	case len(g.Hunks) == 0:
		return "(only the YAML around masked values is written differently)"
	case g.Status == diff.Removed:
		n := 0
		for _, h := range g.Hunks {
			n += h.OldLines
		}
		return fmt.Sprintf("(all %d lines removed)", n)
	}
	return ""
}

// placementWhere says on which clusters, and through which bundle, an app
// is created or deleted.
func placementWhere(p diff.PlacementGroup, quote func(string) string) string {
	s := "on " + clusterList(p.Clusters, quote)
	if len(p.Bundles) > 0 {
		s += " (bundle " + strings.Join(p.Bundles, ", ") + ")"
	}
	return s
}

// maxComment is the most characters a GitHub comment holds.
const maxComment = 65536

// formatMarkdown writes the report as a pull-request comment: summary,
// placement, then one collapsible section per change, never longer than
// maxComment bytes (so never more characters). What does not fit is left
// out, and a last line says so and how to see it all.
func formatMarkdown(w io.Writer, r *diff.Report, v diffView) error {
	code := func(s string) string { return "`" + s + "`" }
	var head strings.Builder
	head.WriteString("### fleetc diff\n\n")
	fmt.Fprintf(&head, "Comparing %s with %s.\n\n", mdEscape(v.before), mdEscape(v.after))
	if r.Empty() {
		head.WriteString("No changes to any cluster.\n")
		_, err := io.WriteString(w, head.String())
		return err
	}
	for _, l := range summaryLines(r.Summary, code) {
		fmt.Fprintf(&head, "- %s\n", l)
	}

	// The budget keeps room for the line that says what was cut.
	const footerRoom = 512
	out := newCapped(maxComment-footerRoom, head.String())
	placements := diff.GroupPlacement(r.Placement)
	shownPlacements := 0
	if len(placements) > 0 || len(r.Renames) > 0 {
		out.add("\n#### Placement\n\n")
		for _, rn := range r.Renames {
			out.add("- **renamed** " + renameLine(rn, code) + "\n")
		}
		if len(r.Renames) > 0 && len(placements) > 0 {
			out.add("\n")
		}
	}
	if len(placements) > 0 {
		what := "created or deleted"
		if anyKept(placements) {
			what = "created, deleted or orphaned"
		}
		out.add("Argo CD Applications " + what + ", prod first:\n\n| | app | clusters |\n|:--|:--|:--|\n")
		for _, p := range placements {
			verb := placementVerb(p)
			if p.Status == diff.Removed {
				verb, _ = strings.CutSuffix(verb, " (resources kept)")
				verb = "**" + verb + "**"
				if p.ResourcesKept {
					verb += " (resources kept)"
				}
			}
			row := fmt.Sprintf("| %s | %s | %s |\n", verb, code(p.Category+"/"+p.App), placementWhere(p, code))
			if !out.add(row) {
				break
			}
			shownPlacements++
		}
	}
	shown, brief := 0, 0
	if shownPlacements == len(placements) {
		out.add("\n#### Changes\n")
		for _, g := range r.Groups {
			title := groupTitle(g, htmlCode)
			section := fmt.Sprintf("\n<details>\n<summary>%s</summary>\n\n%s\n</details>\n", title, fenced(g))
			if out.add(section) {
				shown++
				continue
			}
			// Too long to show: name it at least.
			if !out.add(fmt.Sprintf("\n- %s (diff too long for a comment)\n", title)) {
				break
			}
			brief++
		}
	}
	text := out.String()
	if shownPlacements < len(placements) || shown < len(r.Groups) {
		var parts []string
		if shownPlacements < len(placements) {
			parts = append(parts, fmt.Sprintf("%d of %d placement changes", shownPlacements, len(placements)))
		}
		parts = append(parts, fmt.Sprintf("%d of %d changes in full", shown, len(r.Groups)))
		if brief > 0 {
			parts = append(parts, fmt.Sprintf("%d more by name only", brief))
		}
		text += fmt.Sprintf("\n---\n**Cut short:** a comment holds at most %s characters; shown: %s. Run `%s` to see all of it (`--format json` for tools).\n",
			thousands(maxComment), strings.Join(parts, ", "), v.full)
	}
	_, err := io.WriteString(w, text)
	return err
}

// thousands writes n with thousands separators: 65,536.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// capped is text that grows only while it fits its budget.
type capped struct {
	b      strings.Builder
	budget int
}

func newCapped(budget int, s string) *capped {
	c := &capped{budget: budget}
	c.b.WriteString(s)
	return c
}

// add appends s if it fits and reports whether it did.
func (c *capped) add(s string) bool {
	if c.b.Len()+len(s) > c.budget {
		return false
	}
	c.b.WriteString(s)
	return true
}

func (c *capped) String() string { return c.b.String() }

// fenced is a group's hunks as a diff code block, fenced with more
// backticks than the lines hold in a row.
func fenced(g diff.Group) string {
	if note := hunkNote(g); note != "" {
		return note + "\n"
	}
	var body strings.Builder
	for _, h := range g.Hunks {
		body.WriteString(h.Header() + "\n")
		for _, l := range h.Lines {
			body.WriteString(l + "\n")
		}
	}
	fence := "```"
	for strings.Contains(body.String(), fence) {
		fence += "`"
	}
	return fence + "diff\n" + body.String() + fence + "\n"
}

// htmlCode is s as inline code inside HTML.
func htmlCode(s string) string { return "<code>" + html.EscapeString(s) + "</code>" }

// mdEscape keeps text from being read as markdown or HTML.
func mdEscape(s string) string {
	return strings.NewReplacer("\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "<", "&lt;", ">", "&gt;", "|", "\\|").Replace(s)
}

// formatJSON writes the report for tools: the summary, the placement
// changes, and every changed file with its hunks.
func formatJSON(w io.Writer, r *diff.Report, v diffView) error {
	files := r.Files
	if files == nil {
		files = []diff.File{}
	}
	placement := r.Placement
	if placement == nil {
		placement = []diff.Placement{}
	}
	renames := r.Renames
	if renames == nil {
		renames = []diff.Rename{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Before     string           `json:"before"`
		BaseCommit string           `json:"baseCommit,omitempty"`
		After      string           `json:"after"`
		Changed    bool             `json:"changed"`
		Summary    diff.Summary     `json:"summary"`
		Placement  []diff.Placement `json:"placement"`
		Renames    []diff.Rename    `json:"renames"`
		Files      []diff.File      `json:"files"`
	}{v.before, v.baseCommit, v.after, !r.Empty(), r.Summary, placement, renames, files})
}
