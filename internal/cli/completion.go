package cli

import (
	"maps"
	"os/exec"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
	"github.com/fleetc/fleetc/internal/placement"
)

// Shell completion: cobra's `fleetc completion bash|zsh|fish|powershell`
// writes the script, which asks the hidden `fleetc __complete ...` for
// candidates. Flag names complete by themselves; completeFlags says how the
// values of each verb's flags complete.

// flagValues completes the values of the flags of that name on every verb
// that has one, unless the verb registers its own. Flags that are not here
// and take a value complete nothing rather than file names: what they take
// (a selector, a URL) is no file.
var flagValues = map[string]func(io IO) cobra.CompletionFunc{
	"cluster":         completeClusters,
	"app":             completeApps,
	"root":            completeDirs,
	"out":             completeDirs,
	"secrets-out":     completeDirs,
	"base":            completeGitRefs,
	"cluster-secrets": func(IO) cobra.CompletionFunc { return oneOf(secretsExternal, secretsInline) },
	"cpuprofile":      func(IO) cobra.CompletionFunc { return completeFiles },
}

// completeFlags registers the completion of every flag value of root and
// its verbs that has none yet.
func completeFlags(root *cobra.Command, io IO) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		register := func(f *pflag.Flag) {
			if _, ok := c.GetFlagCompletionFunc(f.Name); ok || f.NoOptDefVal != "" {
				return // its own, or a flag without a value such as a bool
			}
			fn := cobra.NoFileCompletions
			if mk, ok := flagValues[f.Name]; ok {
				fn = mk(io)
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, fn)
		}
		// Persistent flags are registered once, where they are declared.
		c.PersistentFlags().VisitAll(register)
		c.Flags().VisitAll(register)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// oneOf completes a flag that takes one of a fixed set of values, such as
// a verb's --format: pass the values the verb accepts.
func oneOf(vs ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(vs, cobra.ShellCompDirectiveNoFileComp)
}

// keysOf is the sorted keys of m, for oneOf when a verb keeps its values
// as a map (of formats to writers, say).
func keysOf[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// completeClusters completes --cluster with the names of the platform's
// clusters. It reads the file names and first declarations of clusters/
// only (load.ClusterNames), so that it answers at once on a fleet of
// thousands; the platform is the one around --root, if given.
func completeClusters(io IO) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		root, _ := c.Flags().GetString("root")
		names, err := load.ClusterNames(rootDir(io.Cwd, root))
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return remaining(c, "cluster", names, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeApps completes --app (placement) with the platform's
// ApplicationSets: the apps of the catalog and the hand-written sets. It
// evaluates the shared package for the catalog, but no cluster.
func completeApps(io IO) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		root, _ := c.Flags().GetString("root")
		p, err := load.Load(load.Config{Dir: rootDir(io.Cwd, root)})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cat, err := compile.ReadCatalog(p)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		hw, _, err := placement.ReadHandwritten(p.Root, cat.ApplicationSets.Handwritten)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return remaining(c, "app", slices.Compact(setNames(cat, hw)), toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// remaining is the names that the repeatable flag of that name does not
// hold yet. A flag that also takes a comma-separated list (StringSlice)
// completes the name after the last comma of toComplete, which keeps what
// comes before it.
func remaining(c *cobra.Command, flag string, names []string, toComplete string) []string {
	f := c.Flags().Lookup(flag)
	var given []string
	if v, ok := f.Value.(pflag.SliceValue); ok {
		given = v.GetSlice()
	}
	var prefix string
	if f.Value.Type() == "stringSlice" {
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			prefix = toComplete[:i+1]
			given = append(given, strings.Split(toComplete[:i], ",")...)
		}
	}
	var out []string
	for _, n := range names {
		if !slices.Contains(given, n) {
			out = append(out, prefix+n)
		}
	}
	return out
}

func completeDirs(IO) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
}

func completeFiles(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveDefault
}

// completeGitRefs completes a git ref (diff --base): HEAD and the branches,
// remote branches and tags of the repository around the platform.
func completeGitRefs(io IO) cobra.CompletionFunc {
	return func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		root, _ := c.Flags().GetString("root")
		cmd := exec.Command("git", "for-each-ref", "--format=%(refname:short)", "refs/heads", "refs/remotes", "refs/tags")
		cmd.Dir = rootDir(io.Cwd, root)
		out, err := cmd.Output()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		refs := []string{"HEAD"}
		for _, r := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if r != "" {
				refs = append(refs, r)
			}
		}
		return refs, cobra.ShellCompDirectiveNoFileComp
	}
}
