package importer

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"
	"cuelang.org/go/cue/parser"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
)

// ValuesOptions are what import values is told besides the tree.
type ValuesOptions struct {
	// Bundles are the bundles of apps the catalog does not have yet, by
	// app (--bundle app=bundle); an app left out gets the bundle every
	// cluster with its values enables, and only those, if there is one.
	Bundles map[string]string
	// Labels are registration labels by cluster (env=<env>,
	// <bundle>=enabled), in place of what its cluster file says; the
	// cluster file is changed to say them.
	Labels map[string]map[string]string
}

// ValuesImport is what import values makes of a tree: the files to write
// and what they hold. Nothing in it is on disk until the caller writes
// Files.
type ValuesImport struct {
	// Files are the CUE files to write, new or changed, by absolute path,
	// sorted.
	Files []SourceFile
	// Apps are the apps imported, sorted by name.
	Apps []ValuesApp
	// Unused are the values files of apps whose bundle their cluster
	// does not enable: Argo CD never deployed them.
	Unused []string
	// Ignored are files under the tree that are not values files.
	Ignored []string
	// Renamed are the directories of clusters whose name is not a valid
	// cluster name, read as the cluster import argocd derived from it.
	Renamed []string
	// Stats counts what the values became, over all apps.
	Stats ValuesStats
	// Clusters counts the clusters with values files.
	Clusters int

	tree   *ValuesTree
	byFile map[string]*ValuesInput // by Rel, the files to reproduce
	inTree map[string]bool         // the clusters with values files
}

// SourceFile is a CUE source file import values writes.
type SourceFile struct {
	Path string
	Data []byte
	// Exists says a file is at Path already (with other bytes).
	Exists bool
}

// ValuesApp is one imported app.
type ValuesApp struct {
	Name, Bundle, Category string
	// New says the catalog did not have it.
	New bool
	// Clusters is how many clusters get it.
	Clusters int
	Stats    ValuesStats
}

// Values derives the catalog, the per-cluster settings and the env
// settings that reproduce tree on the platform p, and returns the files
// that say them. It writes nothing and does not check the result: see
// (*ValuesImport).Prove.
func Values(p *load.Platform, tree *ValuesTree, opts ValuesOptions) (*ValuesImport, error) {
	voc, err := ReadVocabulary(p)
	if err != nil {
		return nil, err
	}
	cat, err := compile.ReadCatalog(p)
	if err != nil {
		return nil, err
	}
	v := &valuesImporter{voc: voc, opts: opts, res: &ValuesImport{tree: tree, byFile: map[string]*ValuesInput{}, Ignored: tree.Ignored}}
	if err := v.readClusters(p.Clusters, tree.Files); err != nil {
		return nil, err
	}
	if err := v.readApps(tree.Files, cat.Apps); err != nil {
		return nil, err
	}
	v.generate()
	// The files: catalog packages first, then cluster files.
	if err := v.catalogFiles(p); err != nil {
		return nil, err
	}
	if err := v.clusterFiles(); err != nil {
		return nil, err
	}
	v.res.Files = v.changedFiles()
	return v.res, nil
}

// valuesImporter is what the steps of Values leave for the next ones.
type valuesImporter struct {
	voc  Vocabulary
	opts ValuesOptions
	res  *ValuesImport
	// infos are the clusters with values files, by name; clusters their
	// names, sorted.
	infos    map[string]*clusterInfo
	clusters []string
	apps     map[string]*appIn
	// assigns are the settings of the imported apps that each cluster
	// file sets, by index in clusters; byCategory what each category's
	// file gets; imported the apps imported.
	assigns    map[int][]appAssign
	byCategory map[string]*categoryGen
	imported   map[string]bool
	// out are the files to write, by path; onDisk what the files read
	// here hold, so that telling which outputs change does not read them
	// again.
	out, onDisk map[string][]byte
}

// appIn is an app of the tree: its category and bundle, its catalog
// entry (nil for an app new to the catalog) and its values files.
type appIn struct {
	name, category, bundle string
	catalog                *compile.CatalogApp
	inputs                 []*ValuesInput
}

// readClusters reads the env and bundles of each cluster with values
// files from its cluster file, or --labels.
func (v *valuesImporter) readClusters(cfs []*load.ClusterFile, inputs []*ValuesInput) error {
	files := map[string]*load.ClusterFile{}
	for _, cf := range cfs {
		files[cf.Name] = cf
	}
	v.infos = map[string]*clusterInfo{}
	var missing []string
	renamed := map[string]bool{}
	for _, in := range inputs {
		// A directory named after a cluster's old name that import argocd
		// replaced, such as a kubeconfig context: the values are the
		// cluster's under its new name.
		if files[in.Cluster] == nil {
			if to := ClusterName(in.Cluster); to != in.Cluster && files[to] != nil {
				if !renamed[in.Cluster] {
					v.res.Renamed = append(v.res.Renamed, fmt.Sprintf("%s/%s: the values of cluster %s, as import argocd named it", ValuesDir, in.Cluster, to))
				}
				renamed[in.Cluster] = true
				in.Cluster = to
			}
		}
		if _, ok := v.infos[in.Cluster]; ok {
			continue
		}
		cf := files[in.Cluster]
		if cf == nil {
			missing = append(missing, in.Cluster)
			v.infos[in.Cluster] = nil
			continue
		}
		ci, err := readClusterInfo(cf, v.voc, v.opts.Labels[in.Cluster])
		if err != nil {
			return err
		}
		v.infos[in.Cluster] = ci
	}
	if len(missing) > 0 {
		return fmt.Errorf("no cluster file for %s in %s/: import the clusters' registrations first (fleetc import argocd or fleetc import tkc), so that their env and bundles are known",
			strings.Join(missing, ", "), load.ClustersDir)
	}
	for c := range v.opts.Labels {
		if _, ok := v.infos[c]; !ok {
			return fmt.Errorf("--labels %s: the tree has no values of cluster %s", c, c)
		}
	}
	v.clusters = slices.Sorted(maps.Keys(v.infos))
	v.res.Clusters = len(v.infos)
	v.res.inTree = map[string]bool{}
	for c := range v.infos {
		v.res.inTree[c] = true
	}
	return nil
}

// readApps groups the values files by app, and tells each app's category
// and bundle: the catalog's, else its directory's and --bundle or the
// bundle its clusters tell (inferBundle).
func (v *valuesImporter) readApps(inputs []*ValuesInput, catalog []compile.CatalogApp) error {
	known := map[string]compile.CatalogApp{}
	for _, a := range catalog {
		known[a.Name] = a
	}
	v.apps = map[string]*appIn{}
	for _, in := range inputs {
		a := v.apps[in.App]
		if a == nil {
			a = &appIn{name: in.App, category: in.Category}
			if k, ok := known[in.App]; ok {
				a.catalog, a.bundle = &k, k.Bundle
				if k.Category != in.Category {
					return fmt.Errorf("%s: app %s is in category %s of the catalog, so its values are %s: move the file or the app", in.Rel(), in.App, k.Category, strings.Replace(in.Rel(), "/"+in.Category+"/", "/"+k.Category+"/", 1))
				}
			}
			v.apps[in.App] = a
		}
		if in.Category != a.category {
			return fmt.Errorf("%s: app %s is also in category %s (%s): an app has one category", in.Rel(), in.App, a.category, a.inputs[0].Rel())
		}
		a.inputs = append(a.inputs, in)
	}
	for app := range v.opts.Bundles {
		if _, ok := v.apps[app]; !ok {
			return fmt.Errorf("--bundle %s: the tree has no values of app %s", app, app)
		}
	}
	for _, a := range v.apps {
		if a.catalog != nil {
			if b, ok := v.opts.Bundles[a.name]; ok && b != a.bundle {
				return fmt.Errorf("--bundle %s=%s: the catalog deploys %s with bundle %s", a.name, b, a.name, a.bundle)
			}
			continue
		}
		b, err := inferBundle(a.name, a.inputs, v.infos, v.voc, v.opts.Bundles[a.name])
		if err != nil {
			return err
		}
		a.bundle = b
	}
	return nil
}

// generate derives each app's catalog entry, env settings and
// per-cluster settings from the values files of the clusters that deploy
// it; a values file of a cluster whose bundles leave its app out is
// unused.
func (v *valuesImporter) generate() {
	index := map[string]int{}
	vcs := make([]vcluster, len(v.clusters))
	for i, c := range v.clusters {
		index[c] = i
		vcs[i] = vcluster{name: c, env: v.infos[c].env}
	}
	v.assigns, v.byCategory, v.imported = map[int][]appAssign{}, map[string]*categoryGen{}, map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(v.apps)) {
		a := v.apps[name]
		var ms []member
		for _, in := range a.inputs {
			if ci := v.infos[in.Cluster]; !ci.bundles[a.bundle] {
				v.res.Unused = append(v.res.Unused, fmt.Sprintf("%s: cluster %s does not enable bundle %s", in.Rel(), in.Cluster, a.bundle))
				continue
			}
			v.res.byFile[in.Rel()] = in
			ms = append(ms, member{index[in.Cluster], in.Root})
		}
		if len(ms) == 0 {
			continue
		}
		g := &appGen{app: name, file: fmt.Sprintf("%s/*/%s/%s/%s", ValuesDir, a.category, name, ValuesFile), clusters: vcs, envs: v.voc.Envs}
		expr := g.generate(ms)
		for c, as := range g.assign {
			v.assigns[c] = append(v.assigns[c], appAssign{app: name, settings: as})
		}
		cg := v.byCategory[a.category]
		if cg == nil {
			cg = &categoryGen{category: a.category}
			v.byCategory[a.category] = cg
		}
		cg.apps = append(cg.apps, genApp{name: name, bundle: a.bundle, catalog: a.catalog, expr: expr, gen: g, clusters: len(ms)})
		v.res.Apps = append(v.res.Apps, ValuesApp{Name: name, Bundle: a.bundle, Category: a.category, New: a.catalog == nil, Clusters: len(ms), Stats: g.stats})
		v.res.Stats.add(g.stats)
		v.imported[name] = true
	}
	sort.Strings(v.res.Unused)
}

// catalogFiles adds to out the files of the catalog package that change:
// those with entries of the imported apps lose them, and each category's
// file gets its imported apps.
func (v *valuesImporter) catalogFiles(p *load.Platform) error {
	defsDir, srcs, err := catalogPackage(p)
	if err != nil {
		return err
	}
	v.out, v.onDisk = map[string][]byte{}, srcs
	for path, src := range srcs {
		edited, changed, err := removeApps(path, src, v.imported)
		if err != nil {
			return err
		}
		if changed {
			v.out[path] = edited
		}
	}
	for _, category := range slices.Sorted(maps.Keys(v.byCategory)) {
		path := filepath.Join(defsDir, category+".cue")
		base, ok := v.out[path]
		if !ok {
			base = srcs[path]
		}
		pkg := ""
		if base == nil {
			pkg = catalogPkgName(srcs)
		}
		data, err := v.byCategory[category].file(base, pkg)
		if err != nil {
			return fmt.Errorf("format %s: %w", path, err)
		}
		v.out[path] = data
	}
	return nil
}

// clusterFiles adds to out the cluster files that change: with their
// settings of the imported apps, and for --labels their env and bundles.
func (v *valuesImporter) clusterFiles() error {
	for i, c := range v.clusters {
		path := v.infos[c].file.Path
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		v.onDisk[path] = src
		data, err := clusterValues(v.infos[c], src, v.assigns[i], v.imported)
		if err != nil {
			return err
		}
		if string(data) != string(src) {
			v.out[path] = data
		}
	}
	return nil
}

// changedFiles is out, sorted by path, without the files that hold the
// same bytes already.
func (v *valuesImporter) changedFiles() []SourceFile {
	var files []SourceFile
	for _, path := range slices.Sorted(maps.Keys(v.out)) {
		old, exists := v.onDisk[path]
		if !exists {
			var err error
			old, err = os.ReadFile(path)
			exists = err == nil
		}
		if exists && string(old) == string(v.out[path]) {
			continue
		}
		files = append(files, SourceFile{Path: path, Data: v.out[path], Exists: exists})
	}
	return files
}

// clusterInfo is a cluster's env and bundles as its file says them.
type clusterInfo struct {
	name, env string
	bundles   map[string]bool
	file      *load.ClusterFile
	// labelsGiven says --labels replaced env and bundles.
	labelsGiven bool
}

// readClusterInfo reads the env and bundles of a cluster file: literal
// fields, as import argocd and tkc write them. labels, when set, replace
// them.
func readClusterInfo(cf *load.ClusterFile, voc Vocabulary, labels map[string]string) (*clusterInfo, error) {
	ci := &clusterInfo{name: cf.Name, file: cf, bundles: map[string]bool{}}
	for _, b := range voc.Required {
		ci.bundles[b] = true
	}
	if labels != nil {
		if err := ci.setLabels(labels, voc); err != nil {
			return nil, err
		}
		if ci.env != "" {
			return ci, nil
		}
	}
	at := func(f *ast.Field) string {
		pos := f.Pos().Position()
		return fmt.Sprintf("%s:%d:%d", pos.Filename, pos.Line, pos.Column)
	}
	env := load.Field(cf.Syntax.Decls, load.ClustersField, cf.Name, "env")
	if env == nil {
		return nil, fmt.Errorf("%s: cluster %s has no env: import values needs it to tell env settings from per-cluster ones (or give --labels %s=env=<env>)", cf.Path, cf.Name, cf.Name)
	}
	lit, ok := env.Value.(*ast.BasicLit)
	s, err := strconv.Unquote(litValue(lit))
	if !ok || err != nil {
		return nil, fmt.Errorf("%s: cluster %s: env is not a plain string: import values reads it as written (or give --labels %s=env=<env>)", at(env), cf.Name, cf.Name)
	}
	ci.env = s
	if labels != nil {
		return ci, nil
	}
	if b := load.Field(cf.Syntax.Decls, load.ClustersField, cf.Name, "bundles"); b != nil {
		st, ok := b.Value.(*ast.StructLit)
		if !ok {
			return nil, fmt.Errorf("%s: cluster %s: bundles is not a plain struct of booleans: import values reads it as written (or give --labels)", at(b), cf.Name)
		}
		for _, d := range st.Elts {
			f, ok := d.(*ast.Field)
			if !ok {
				return nil, fmt.Errorf("%s: cluster %s: bundles is not a plain struct of booleans (or give --labels)", at(b), cf.Name)
			}
			name, _, err := ast.LabelName(f.Label)
			v, isLit := f.Value.(*ast.BasicLit)
			if err != nil || !isLit || (v.Value != "true" && v.Value != "false") {
				return nil, fmt.Errorf("%s: cluster %s: bundles.%s is not true or false as written: import values reads it as written (or give --labels)", at(f), cf.Name, name)
			}
			ci.bundles[name] = v.Value == "true"
		}
	}
	return ci, nil
}

// setLabels sets the env and bundles that --labels give.
func (ci *clusterInfo) setLabels(labels map[string]string, voc Vocabulary) error {
	ci.labelsGiven = true
	for k, v := range labels {
		switch {
		case k == argocd.EnvLabel:
			if !slices.Contains(voc.Envs, v) {
				return fmt.Errorf("--labels %s: env %s is not an env of the platform (%s)", ci.name, v, strings.Join(voc.Envs, ", "))
			}
			ci.env = v
		case slices.Contains(voc.Bundles, k):
			if v != argocd.BundleEnabled {
				return fmt.Errorf("--labels %s: %s=%s: a bundle is on with %s=%s", ci.name, k, v, k, argocd.BundleEnabled)
			}
			ci.bundles[k] = true
		default:
			return fmt.Errorf("--labels %s: %s is neither env nor a bundle (%s)", ci.name, k, strings.Join(voc.Bundles, ", "))
		}
	}
	return nil
}

func litValue(l *ast.BasicLit) string {
	if l == nil {
		return ""
	}
	return l.Value
}

// inferBundle is the bundle of an app the catalog does not have: given,
// or the one bundle that exactly the clusters with its values enable.
func inferBundle(app string, inputs []*ValuesInput, infos map[string]*clusterInfo, voc Vocabulary, given string) (string, error) {
	if given != "" {
		if !slices.Contains(voc.Bundles, given) {
			return "", fmt.Errorf("--bundle %s=%s: not a bundle of the platform (%s)", app, given, strings.Join(voc.Bundles, ", "))
		}
		return given, nil
	}
	has := map[string]bool{}
	for _, in := range inputs {
		has[in.Cluster] = true
	}
	var exact, shared []string
	for _, b := range voc.Bundles {
		all, only := true, true
		for c, ci := range infos {
			switch {
			case has[c] && !ci.bundles[b]:
				all = false
			case !has[c] && ci.bundles[b]:
				only = false
			}
		}
		if all {
			shared = append(shared, b)
			if only {
				exact = append(exact, b)
			}
		}
	}
	if len(exact) == 1 {
		return exact[0], nil
	}
	why := "no bundle is enabled on every cluster that has its values"
	switch {
	case len(exact) > 1:
		why = "bundles " + strings.Join(exact, ", ") + " are each enabled on exactly the clusters that have its values"
	case len(shared) > 0:
		why = "the clusters with its values all enable " + strings.Join(shared, ", ") + ", but so do clusters without"
	}
	return "", fmt.Errorf("app %s is not in the catalog and its bundle cannot be told: %s; give --bundle %s=<bundle>", app, why, app)
}

// appAssign are one app's settings that a cluster file sets.
type appAssign struct {
	app      string
	settings []assignment
}

// genApp is one app's generated catalog entry.
type genApp struct {
	name, bundle string
	catalog      *compile.CatalogApp
	expr         string
	gen          *appGen
	clusters     int
}

// categoryGen is what import values writes into one category's file.
type categoryGen struct {
	category string
	apps     []genApp
}

// file returns base (the category file without the imported apps, or
// nil) with the imported apps' catalog entries, #Cluster settings and env
// settings added, formatted.
func (cg *categoryGen) file(base []byte, pkg string) ([]byte, error) {
	var b strings.Builder
	if base == nil {
		fmt.Fprintf(&b, "package %s\n\n// %s: the apps of this category, imported by fleetc import values.\n", pkg, cg.category)
	} else {
		b.Write(base)
	}
	cg.writeCatalog(&b)
	cg.writeClusterSettings(&b)
	cg.writeEnvSettings(&b)
	return formatSource(b.String())
}

// writeCatalog writes the apps' entries of #Catalog.
func (cg *categoryGen) writeCatalog(b *strings.Builder) {
	usesEnvs := false
	for _, a := range cg.apps {
		usesEnvs = usesEnvs || strings.Contains(a.expr, letEnvs+"[")
	}
	fmt.Fprintf(b, "\n// The apps of %s whose values fleetc import values derived from the\n// values files of every cluster (%s/<cluster>/%s/<app>/%s).\n", cg.category, ValuesDir, cg.category, ValuesFile)
	b.WriteString("#Catalog: {\n\tcluster: _\n")
	if usesEnvs {
		fmt.Fprintf(b, "\tlet %s = platform.envs\n", letEnvs)
	}
	for _, a := range cg.apps {
		a.writeEntry(b, cg.category)
	}
	b.WriteString("}\n")
}

// writeEntry writes a's entry of #Catalog: what the catalog said of it
// besides its defaults, and its values.
func (a genApp) writeEntry(b *strings.Builder, category string) {
	fmt.Fprintf(b, "\n\t// %s: imported from %s (%s).\n", a.name, a.gen.file, plural(a.clusters, "1 cluster", fmt.Sprintf("%d clusters", a.clusters)))
	fmt.Fprintf(b, "\tapps: %s: {\n", label(a.name))
	fmt.Fprintf(b, "\t\tbundle:   %s\n\t\tcategory: %s\n", strconv.Quote(a.bundle), strconv.Quote(category))
	if c := a.catalog; c != nil {
		if c.Chart != c.Category+"/"+c.Name {
			fmt.Fprintf(b, "\t\tchart: %s\n", strconv.Quote(c.Chart))
		}
		if c.Namespace != c.Category {
			fmt.Fprintf(b, "\t\tnamespace: %s\n", strconv.Quote(c.Namespace))
		}
		if c.ServerSideApply {
			b.WriteString("\t\tserverSideApply: true\n")
		}
	}
	// A let nothing refers to is an error in CUE: each is declared
	// where the expression uses it.
	if strings.Contains(a.expr, letCluster+".") {
		fmt.Fprintf(b, "\t\tlet %s = cluster\n", letCluster)
	}
	if strings.Contains(a.expr, letOwn+".") {
		fmt.Fprintf(b, "\t\tlet %s = cluster.%s[%s]\n", letOwn, settingsField, strconv.Quote(a.name))
	}
	fmt.Fprintf(b, "\t\tvalues: %s\n\t}\n", indent(a.expr, 2))
}

// writeClusterSettings writes the fields of #Cluster that the apps'
// per-cluster settings add, if any.
func (cg *categoryGen) writeClusterSettings(b *strings.Builder) {
	var apps []genApp
	usesEnv, usesName := false, false
	for _, a := range cg.apps {
		if len(a.gen.settings) > 0 {
			apps = append(apps, a)
		}
		for _, st := range a.gen.settings {
			usesEnv = usesEnv || strings.Contains(st.schema, letEnv+"]")
			usesName = usesName || strings.Contains(st.schema, letName+")")
		}
	}
	if len(apps) == 0 {
		return
	}
	b.WriteString("\n// The values of the apps above that differ between clusters: each\n// cluster file sets those where it differs from the default.\n#Cluster: {\n\tenv!: _\n")
	if usesName {
		fmt.Fprintf(b, "\tname!: _\n\tlet %s = name\n", letName)
	}
	if usesEnv {
		fmt.Fprintf(b, "\tlet %s = env\n\tlet %s = platform.envs\n", letEnv, letEnvs)
	}
	fmt.Fprintf(b, "\t%s: {\n", settingsField)
	for _, a := range apps {
		fmt.Fprintf(b, "\t\t// %s: what differs between clusters in %s.\n\t\t%s: {\n", a.name, a.gen.file, label(a.name))
		for _, s := range a.gen.settings {
			opt := ""
			if s.optional {
				opt = "?"
			}
			fmt.Fprintf(b, "%s\t\t\t%s%s: %s\n", comment(s.doc, "\t\t\t"), s.name, opt, s.schema)
		}
		b.WriteString("\t\t}\n")
	}
	b.WriteString("\t}\n}\n")
}

// writeEnvSettings writes the env settings of the apps, if any: per env,
// per app, what the env decides.
func (cg *categoryGen) writeEnvSettings(b *strings.Builder) {
	var apps []genApp
	for _, a := range cg.apps {
		if len(a.gen.envSets) > 0 {
			apps = append(apps, a)
		}
	}
	if len(apps) == 0 {
		return
	}
	b.WriteString("\n// The values of the apps above that the env decides.\nplatform: envs: {\n")
	for _, e := range apps[0].gen.envs {
		fmt.Fprintf(b, "\t%s: %s: {\n", label(e), settingsField)
		for _, a := range apps {
			fmt.Fprintf(b, "\t\t%s: {\n", label(a.name))
			for _, s := range a.gen.envSets {
				fmt.Fprintf(b, "%s\t\t\t%s: %s\n", comment(s.doc, "\t\t\t"), s.name, s.byEnv[e])
			}
			b.WriteString("\t\t}\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
}

// comment is doc as line comments, each line prefixed with ind.
func comment(doc, ind string) string {
	var b strings.Builder
	for _, l := range wrap(doc, 72) {
		b.WriteString(ind + "// " + l + "\n")
	}
	return b.String()
}

// wrap breaks s into lines of at most width bytes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = w
			continue
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// indent indents every line of s after the first by n tabs.
func indent(s string, n int) string {
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat("\t", n))
}

// formatSource formats CUE source as cue fmt does. Generated source
// takes a second pass to settle: the first one breaks lines that the
// second one aligns.
func formatSource(src string) ([]byte, error) {
	out := []byte(src)
	for range 3 {
		f, err := parser.ParseFile("generated.cue", out, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, src)
		}
		next, err := format.Node(f, format.Simplify())
		if err != nil {
			return nil, err
		}
		if string(next) == string(out) {
			break
		}
		out = next
	}
	return out, nil
}

// catalogPackage finds the package of the module that adds apps to
// #Catalog (defs/ in the reference platform): its directory and the
// source of each of its files, by absolute path.
func catalogPackage(p *load.Platform) (string, map[string][]byte, error) {
	for _, inst := range load.Packages(p.Shared, p.Root)[1:] {
		srcs := map[string][]byte{}
		found := false
		for _, f := range inst.BuildFiles {
			src, err := os.ReadFile(f.Filename)
			if err != nil {
				return "", nil, err
			}
			srcs[f.Filename] = src
			pf, err := parser.ParseFile(f.Filename, src)
			if err != nil {
				return "", nil, err
			}
			for _, d := range pf.Decls {
				if fd, ok := d.(*ast.Field); ok {
					if n, _, _ := ast.LabelName(fd.Label); n == "#Catalog" {
						found = true
					}
				}
			}
		}
		if found {
			return inst.Dir, srcs, nil
		}
	}
	return "", nil, errors.New("no package of the module adds apps to #Catalog: import values writes the catalog beside its definition (defs/ in the reference platform)")
}

// catalogPkgName is the package clause of the catalog's files.
func catalogPkgName(files map[string][]byte) string {
	for _, path := range slices.Sorted(maps.Keys(files)) {
		if f, err := parser.ParseFile(path, files[path], parser.PackageClauseOnly); err == nil {
			return f.PackageName()
		}
	}
	return "defs"
}
