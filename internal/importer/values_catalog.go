package importer

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"cuelang.org/go/cue/literal"

	creds "github.com/fleetc/fleetc/internal/credentials"
)

// The names the generated CUE binds. They start with "_", so no key of a
// values file (a quoted label there) and no setting (an identifier
// without "_") can shadow them.
const (
	letCluster = "_c"    // the cluster, in a catalog entry
	letOwn     = "_o"    // the cluster's settings of the app
	letEnvs    = "_envs" // platform.envs
	letEnv     = "_env"  // the cluster's env, in #Cluster
	letName    = "_name" // the cluster's name, in #Cluster
	// settingsField is the field of #Cluster that holds the per-cluster
	// settings of the imported apps, one struct per app.
	settingsField = "values"
)

// reserved are names a setting does not take: CUE's keywords and
// predeclared identifiers, which a bare label would shadow.
var reserved = map[string]bool{
	"if": true, "for": true, "in": true, "let": true, "true": true, "false": true, "null": true,
	"import": true, "package": true, "string": true, "int": true, "float": true, "number": true,
	"bool": true, "bytes": true, "div": true, "mod": true, "quo": true, "rem": true, "len": true,
	"close": true, "and": true, "or": true, "error": true,
}

// member is one cluster's value at a path of an app's values.
type member struct {
	c int // index into appGen.clusters
	v *value
}

// vcluster is a cluster as import values sees it.
type vcluster struct {
	name, env string
}

// setting is one per-cluster field of #Cluster, under values.<app>.
type setting struct {
	name string
	doc  string
	// schema is its value in #Cluster, such as `*"a" | string`; optional
	// settings are declared `name?: schema`.
	schema   string
	optional bool
}

// envSetting is one field under platform.envs.<env>.values.<app>.
type envSetting struct {
	name string
	doc  string
	// byEnv is its CUE value in each env of the platform.
	byEnv map[string]string
}

// assignment is a setting a cluster file sets.
type assignment struct {
	name, value string
}

// appGen derives one app's catalog entry from its values on every
// cluster that gets it.
type appGen struct {
	app      string
	file     string // cluster/*/<category>/<app>/values.yaml, for comments
	clusters []vcluster
	envs     []string // the platform's envs, in order
	// dropFirst leaves the top key out of setting names: an umbrella
	// chart's values sit under one key, the chart's.
	dropFirst bool

	settings []setting
	envSets  []envSetting
	assign   map[int][]assignment
	names    map[string]bool

	stats ValuesStats
}

// ValuesStats counts what import values made of the values.
type ValuesStats struct {
	// Literals are values (leaves or whole subtrees) equal on every
	// cluster, written once in the catalog.
	Literals int
	// Interpolations are strings that embed the cluster's name.
	Interpolations int
	// EnvSettings are values the env decides, in platform.envs.
	EnvSettings int
	// PerCluster are the fields of #Cluster made for values that differ.
	PerCluster int
	// Overrides are the settings written into cluster files.
	Overrides int
}

func (s *ValuesStats) add(o ValuesStats) {
	s.Literals += o.Literals
	s.Interpolations += o.Interpolations
	s.EnvSettings += o.EnvSettings
	s.PerCluster += o.PerCluster
	s.Overrides += o.Overrides
}

// generate returns the CUE expression of the app's values.
func (g *appGen) generate(ms []member) string {
	g.assign = map[int][]assignment{}
	g.names = map[string]bool{}
	if len(ms) > 0 {
		keys := map[string]bool{}
		for _, m := range ms {
			for _, k := range m.v.keys {
				keys[k] = true
			}
		}
		g.dropFirst = len(keys) == 1
	}
	return g.expr(nil, "", ms, 1)
}

// expr is the CUE expression for the values at path (its segments) of the
// members, every one of which has a value there. depth is the tab depth
// of the expression's own lines.
func (g *appGen) expr(path []string, disp string, ms []member, depth int) string {
	if allEqual(ms) {
		g.stats.Literals++
		return lit(ms[0].v, depth)
	}
	k := ms[0].v.kind
	same := true
	for _, m := range ms {
		if m.v.kind != k {
			same = false
		}
	}
	if !same {
		return g.whole(path, disp, ms, "its type differs between clusters")
	}
	switch k {
	case kindMap:
		return g.mapping(path, disp, ms, depth)
	case kindList:
		n := len(ms[0].v.vals)
		for _, m := range ms {
			if len(m.v.vals) != n {
				return g.whole(path, disp, ms, "the list's length differs between clusters")
			}
		}
		var b strings.Builder
		b.WriteString("[")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			sub := make([]member, len(ms))
			for j, m := range ms {
				sub[j] = member{m.c, m.v.vals[i]}
			}
			b.WriteString(g.expr(append(slices.Clip(path), strconv.Itoa(i)), fmt.Sprintf("%s[%d]", disp, i), sub, depth))
		}
		b.WriteString("]")
		return b.String()
	}
	if s, ok := g.template(ms); ok {
		g.stats.Interpolations++
		return s
	}
	return g.scalar(path, disp, ms)
}

// mapping is the struct of the members' maps: every key any of them has,
// in the order of the most common key order. A key only some have is
// behind a per-cluster setting.
func (g *appGen) mapping(path []string, disp string, ms []member, depth int) string {
	order := keyOrder(ms)
	ind := strings.Repeat("\t", depth)
	var b strings.Builder
	b.WriteString("{\n")
	for _, key := range order {
		var sub []member
		for _, m := range ms {
			if v, ok := m.v.get(key); ok {
				sub = append(sub, member{m.c, v})
			}
		}
		kp := append(slices.Clip(path), key)
		kd := joinPath(disp, key)
		switch {
		case len(sub) == len(ms):
			fmt.Fprintf(&b, "%s%s: %s\n", ind, label(key), g.expr(kp, kd, sub, depth+1))
		case 2*len(sub) <= len(ms):
			// A key few clusters have: theirs, whole, in their files.
			for _, ref := range g.optional(kp, fmt.Sprintf("%s of %s, which %d of the %d clusters with the app have: set in their files.", kd, g.file, len(sub), len(ms)), sub) {
				fmt.Fprintf(&b, "%sif %s != _|_ {%s: %s}\n", ind, ref, label(key), ref)
			}
		default:
			// A key most clusters have: a setting says which do not.
			name := g.newName(kp, "has")
			g.addSetting(setting{name: name, schema: "*true | bool",
				doc: fmt.Sprintf("%s says whether the values have %s, as %d of the %d clusters with the app (%s) do.", name, kd, len(sub), len(ms), g.file)})
			for _, m := range ms {
				if _, ok := m.v.get(key); !ok {
					g.set(m.c, name, "false")
				}
			}
			fmt.Fprintf(&b, "%sif %s.%s {\n%s\t%s: %s\n%s}\n", ind, letOwn, name, ind, label(key), g.expr(kp, kd, sub, depth+2), ind)
		}
	}
	b.WriteString(strings.Repeat("\t", depth-1) + "}")
	return b.String()
}

// template is an interpolation of the cluster's name (and env) when every
// member's string is the same once those are taken out of it.
func (g *appGen) template(ms []member) (string, bool) {
	if len(ms) < 2 {
		return "", false
	}
	try := func(withEnv bool) ([]string, bool) {
		var parts []string
		for i, m := range ms {
			s, ok := m.v.scalar.(string)
			c := g.clusters[m.c]
			if !ok || !strings.Contains(s, c.name) {
				return nil, false
			}
			t := strings.ReplaceAll(s, c.name, "\x00")
			if withEnv && c.env != "" {
				t = strings.ReplaceAll(t, c.env, "\x01")
			}
			p := strings.Split(t, "\x00")
			if i == 0 {
				parts = p
			} else if !slices.Equal(parts, p) {
				return nil, false
			}
		}
		return parts, true
	}
	parts, ok := try(false)
	if !ok {
		if parts, ok = try(true); !ok {
			return "", false
		}
	}
	var b strings.Builder
	b.WriteString(`"`)
	for i, p := range parts {
		if i > 0 {
			b.WriteString(`\(` + letCluster + `.name)`)
		}
		for j, q := range strings.Split(p, "\x01") {
			if j > 0 {
				b.WriteString(`\(` + letCluster + `.env)`)
			}
			quoted := literal.String.Quote(q)
			b.WriteString(quoted[1 : len(quoted)-1])
		}
	}
	b.WriteString(`"`)
	return b.String(), true
}

// scalar is a per-cluster setting for a scalar that differs between
// clusters. Its default is, of these, the one that leaves the fewest
// clusters to set their own: the most common string with the cluster's
// name in it, as an interpolation of the name; the env's value, where the
// env decides it (an env setting); the most common value. A scalar the env
// decides entirely is an env setting only.
func (g *appGen) scalar(path []string, disp string, ms []member) string {
	name := g.newName(path, "")
	// The forms of the values: a string with the cluster's name in it is
	// its template.
	forms := make([]string, len(ms))
	formCount := map[string]int{}
	bestForm, bestN := "", 0
	for i, m := range ms {
		forms[i] = lit(m.v, 0)
		if s, ok := m.v.scalar.(string); ok && strings.Contains(s, g.clusters[m.c].name) {
			forms[i] = "\x00" + strings.ReplaceAll(s, g.clusters[m.c].name, "\x00")
		}
		formCount[forms[i]]++
		if formCount[forms[i]] > bestN {
			bestForm, bestN = forms[i], formCount[forms[i]]
		}
	}
	if strings.HasPrefix(bestForm, "\x00") && bestN >= 2 {
		parts := strings.Split(bestForm[1:], "\x00")
		g.stats.Interpolations++
		for i, m := range ms {
			if forms[i] != bestForm {
				g.set(m.c, name, lit(m.v, 0))
			}
		}
		return g.perCluster(name, ms, interpolate(parts, letName, ""), interpolate(parts, letCluster+".name", ""),
			fmt.Sprintf("%s is %s of %s: %d of the %d clusters with the app had %s with their own name, the others set their own.", name, disp, g.file, bestN, len(ms), interpolate(parts, "", "<name>")))
	}

	global := mode(ms)
	byEnv := map[string][]member{}
	for _, m := range ms {
		e := g.clusters[m.c].env
		byEnv[e] = append(byEnv[e], m)
	}
	envMode := map[string]string{}
	distinct := map[string]bool{}
	grouped, backed := false, true
	for e, em := range byEnv {
		envMode[e] = mode(em)
		distinct[envMode[e]] = true
		if len(em) > 1 {
			grouped = true
			// An env's value is what at least two of its clusters have.
			n := 0
			for _, m := range em {
				if lit(m.v, 0) == envMode[e] {
					n++
				}
			}
			backed = backed && n >= 2
		}
	}
	devGlobal, devEnv := 0, 0
	for _, m := range ms {
		l := lit(m.v, 0)
		if l != global {
			devGlobal++
		}
		if l != envMode[g.clusters[m.c].env] {
			devEnv++
		}
	}
	if len(distinct) > 1 && grouped && backed && devEnv < devGlobal {
		values := map[string]string{}
		for _, e := range g.envs {
			values[e] = global
			if v, ok := envMode[e]; ok {
				values[e] = v
			}
		}
		g.envSets = append(g.envSets, envSetting{name: name, byEnv: values,
			doc: fmt.Sprintf("%s is %s of %s in the env's clusters.", name, disp, g.file)})
		g.stats.EnvSettings++
		if devEnv == 0 {
			return fmt.Sprintf("%s[%s.env].%s[%s].%s", letEnvs, letCluster, settingsField, strconv.Quote(g.app), name)
		}
		for _, m := range ms {
			if l := lit(m.v, 0); l != envMode[g.clusters[m.c].env] {
				g.set(m.c, name, l)
			}
		}
		return g.perCluster(name, ms,
			fmt.Sprintf("%s[%s].%s[%s].%s", letEnvs, letEnv, settingsField, strconv.Quote(g.app), name),
			fmt.Sprintf("%s[%s.env].%s[%s].%s", letEnvs, letCluster, settingsField, strconv.Quote(g.app), name),
			fmt.Sprintf("%s is %s of %s: platform.envs has each env's value; %d of the %d clusters with the app set their own.", name, disp, g.file, devEnv, len(ms)))
	}
	for _, m := range ms {
		if l := lit(m.v, 0); l != global {
			g.set(m.c, name, l)
		}
	}
	return g.perCluster(name, ms, global, global,
		fmt.Sprintf("%s is %s of %s: %d of the %d clusters with the app had %s, the others set their own.", name, disp, g.file, len(ms)-devGlobal, len(ms), global))
}

// perCluster declares the per-cluster setting name for the members'
// values and returns the catalog's expression for it. Its default is def
// as #Cluster says it, or, where the values are of several kinds, catDef
// as the catalog says it: fleetc renders a value only when it is of one
// kind, and `*1 | int | string` is not (cue export takes the default, the
// renderer does not), so then the setting is optional and the catalog
// falls back to the default.
func (g *appGen) perCluster(name string, ms []member, def, catDef, doc string) string {
	k := kinds(ms)
	if !strings.Contains(k, "|") {
		g.addSetting(setting{name: name, schema: fmt.Sprintf("*%s | %s", def, k), doc: doc})
		return letOwn + "." + name
	}
	g.addSetting(setting{name: name, optional: true, schema: k, doc: doc + " Its values are of several kinds, so its default is in the catalog."})
	return fmt.Sprintf("[if %s.%s != _|_ {%s.%s}, %s][0]", letOwn, name, letOwn, name, catDef)
}

// interpolate is a CUE string of parts with the expression ref between
// them, or, with ref empty, the text show.
func interpolate(parts []string, ref, show string) string {
	var b strings.Builder
	b.WriteString(`"`)
	for i, p := range parts {
		if i > 0 {
			if ref != "" {
				b.WriteString(`\(` + ref + `)`)
			} else {
				b.WriteString(show)
			}
		}
		quoted := literal.String.Quote(p)
		b.WriteString(quoted[1 : len(quoted)-1])
	}
	b.WriteString(`"`)
	return b.String()
}

// whole is a per-cluster setting for a value that differs between
// clusters in shape, not only in its leaves: each cluster that differs
// from the most common value sets its own, whole.
func (g *appGen) whole(path []string, disp string, ms []member, why string) string {
	global := mode(ms)
	var modeV *value
	var differ []member
	for _, m := range ms {
		if lit(m.v, 0) == global {
			modeV = m.v
		} else {
			differ = append(differ, m)
		}
	}
	doc := fmt.Sprintf("%s of %s, whole, as %s: %d of the %d clusters with the app had the default", disp, g.file, why, len(ms)-len(differ), len(ms))
	if scalarish(ms) && !strings.Contains(kinds(ms), "|") {
		// A default of scalars (or lists of them) unifies with a
		// cluster's own value only if they are equal: safe in #Cluster.
		name := g.newName(path, "")
		for _, m := range differ {
			g.set(m.c, name, lit(m.v, 0))
		}
		g.addSetting(setting{name: name, schema: fmt.Sprintf("*%s | %s", global, kinds(ms)), doc: name + " is " + doc + "."})
		return letOwn + "." + name
	}
	// A struct default would merge with a cluster's own struct: the
	// default stays in the catalog, the settings are optional.
	var b strings.Builder
	b.WriteString("[")
	for _, ref := range g.optional(path, doc+" (in the catalog).", differ) {
		fmt.Fprintf(&b, "if %s != _|_ {%s}, ", ref, ref)
	}
	b.WriteString(lit(modeV, 0) + "][0]")
	return b.String()
}

// optional declares the optional settings that hold the members' values
// whole, in the files of their clusters, and returns the expressions
// that read them. Mappings and other values go to settings of their own
// (<name>Map and <name>): fleetc checks the fields a cluster file sets
// against the schema, which declares a mapping's keys (see shape), and a
// schema that is a disjunction of a struct and others declares none.
func (g *appGen) optional(path []string, doc string, set []member) []string {
	var maps, others []member
	for _, m := range set {
		if m.v.kind == kindMap {
			maps = append(maps, m)
		} else {
			others = append(others, m)
		}
	}
	var refs []string
	declare := func(name, schema string, ms []member) {
		g.addSetting(setting{name: name, optional: true, schema: schema, doc: name + " is " + doc})
		for _, m := range ms {
			g.set(m.c, name, lit(m.v, 0))
		}
		refs = append(refs, letOwn+"."+name)
	}
	if len(maps) > 0 && len(others) > 0 {
		declare(g.newName(append(slices.Clip(path), "map"), ""), shape(maps, 3), maps)
		declare(g.newName(path, ""), kinds(others), others)
		return refs
	}
	if len(maps) > 0 {
		declare(g.newName(path, ""), shape(maps, 3), maps)
	} else {
		declare(g.newName(path, ""), kinds(others), others)
	}
	return refs
}

func (g *appGen) addSetting(s setting) {
	g.settings = append(g.settings, s)
	g.stats.PerCluster++
}

func (g *appGen) set(c int, name, value string) {
	g.assign[c] = append(g.assign[c], assignment{name, value})
	g.stats.Overrides++
}

// newName names a setting after the path of its value: the last keys of
// the path (two, list indexes not counted; more where a shorter name is
// taken) in lower camel case, unique in the app. Its doc comment says the
// whole path.
func (g *appGen) newName(path []string, prefix string) string {
	if g.dropFirst && len(path) > 0 {
		path = path[1:]
	}
	start, named := len(path), 0
	for start > 0 && named < 2 {
		start--
		if _, err := strconv.Atoi(path[start]); err != nil {
			named++
		}
	}
	var name string
	for s := start; s >= 0; s-- {
		name = composeName(path[s:], prefix)
		// fleetc refuses a literal string under a name like a
		// credential's (credentials.IsName); a path whose last key is
		// none (existingSecret) must not make one (credentialsExistingSecret).
		if credentialName(name) {
			name += "Setting"
		}
		if !g.names[name] {
			g.names[name] = true
			return name
		}
	}
	base := name
	for i := 2; g.names[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	g.names[name] = true
	return name
}

// composeName is the lower camel case name of path's words after prefix.
func composeName(path []string, prefix string) string {
	var words []string
	if prefix != "" {
		words = append(words, prefix)
	}
	for _, seg := range path {
		words = append(words, strings.FieldsFunc(seg, func(r rune) bool {
			return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
		})...)
	}
	var b strings.Builder
	for i, w := range words {
		if i == 0 {
			b.WriteString(strings.ToLower(w[:1]) + w[1:])
		} else {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	name := b.String()
	if name == "" {
		name = "value"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "v" + name
	}
	if reserved[name] {
		name += "Value"
	}
	return name
}

// credentialName reports whether fleetc would take a setting of this name
// for a credential: a string under it is refused, and so is a number if
// it names a password.
func credentialName(name string) bool {
	return creds.IsName(name) || creds.IsPasswordName(name)
}

// shape is the schema of an optional setting that holds the members'
// values whole: any value, but where they are mappings, the keys they
// have, declared (optional) at every level, so that fleetc's check of
// the fields a cluster file sets sees them declared; other keys stay
// allowed. depth is the indentation of its lines.
func shape(ms []member, depth int) string {
	var maps []member
	for _, m := range ms {
		if m.v.kind == kindMap {
			maps = append(maps, m)
		}
	}
	if len(maps) < len(ms) {
		return "_"
	}
	ind := strings.Repeat("\t", depth)
	var b strings.Builder
	b.WriteString("{\n")
	for _, k := range keyOrder(maps) {
		var sub []member
		for _, m := range maps {
			if v, ok := m.v.get(k); ok {
				sub = append(sub, member{m.c, v})
			}
		}
		fmt.Fprintf(&b, "%s\t%s?: %s\n", ind, label(k), shape(sub, depth+1))
	}
	b.WriteString(ind + "\t...\n" + ind + "}")
	return b.String()
}

// keyOrder is the key order of the most common key sequence among the
// members, followed by the keys only others have, in the order first
// seen.
func keyOrder(ms []member) []string {
	count := map[string]int{}
	first := map[string]int{}
	for i, m := range ms {
		k := strings.Join(m.v.keys, "\x00")
		count[k]++
		if _, ok := first[k]; !ok {
			first[k] = i
		}
	}
	best := ""
	for k, n := range count {
		if n > count[best] || (n == count[best] && first[k] < first[best]) {
			best = k
		}
	}
	order := ms[first[best]].v.keys
	seen := map[string]bool{}
	out := slices.Clone(order)
	for _, k := range order {
		seen[k] = true
	}
	for _, m := range ms {
		for _, k := range m.v.keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func allEqual(ms []member) bool {
	for _, m := range ms[1:] {
		if !equal(ms[0].v, m.v) {
			return false
		}
	}
	return true
}

// mode is the CUE literal of the most common value among the members;
// of values as common, the first.
func mode(ms []member) string {
	count := map[string]int{}
	best, bestN := "", 0
	for _, m := range ms {
		l := lit(m.v, 0)
		count[l]++
		if count[l] > bestN {
			best, bestN = l, count[l]
		}
	}
	// Ties go to the first value to reach the count, which is the first
	// in cluster order among the tied.
	return best
}

// scalarish reports whether every member is a scalar or a list of
// scalars (or of such lists).
func scalarish(ms []member) bool {
	var ok func(v *value) bool
	ok = func(v *value) bool {
		switch v.kind {
		case kindScalar:
			return true
		case kindList:
			return !slices.ContainsFunc(v.vals, func(i *value) bool { return !ok(i) })
		}
		return false
	}
	return !slices.ContainsFunc(ms, func(m member) bool { return !ok(m.v) })
}

// kinds is the CUE type that admits every member's value.
func kinds(ms []member) string {
	var out []string
	add := func(k string) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, m := range ms {
		switch m.v.kind {
		case kindList:
			add("[...]")
		case kindMap:
			add("{...}")
		default:
			switch m.v.scalar.(type) {
			case string:
				add("string")
			case int64, uint64:
				add("int")
			case float64:
				add("float")
			case bool:
				add("bool")
			case nil:
				add("null")
			}
		}
	}
	slices.SortFunc(out, cmp.Compare)
	return strings.Join(out, " | ")
}

// lit is v as a CUE literal; structs span lines indented to depth.
func lit(v *value, depth int) string {
	var b strings.Builder
	writeLit(&b, v, depth)
	return b.String()
}

func writeLit(b *strings.Builder, v *value, depth int) {
	switch v.kind {
	case kindMap:
		if len(v.keys) == 0 {
			b.WriteString("{}")
			return
		}
		if len(v.keys) == 1 {
			// A one-field struct reads best as cue fmt's shorthand.
			b.WriteString("{")
			b.WriteString(label(v.keys[0]))
			b.WriteString(": ")
			writeLit(b, v.vals[0], depth)
			b.WriteString("}")
			return
		}
		b.WriteString("{\n")
		for i, k := range v.keys {
			b.WriteString(label(k))
			b.WriteString(": ")
			writeLit(b, v.vals[i], depth)
			b.WriteString("\n")
		}
		b.WriteString("}")
	case kindList:
		b.WriteString("[")
		for i, it := range v.vals {
			if i > 0 {
				b.WriteString(", ")
			}
			writeLit(b, it, depth)
		}
		b.WriteString("]")
	default:
		b.WriteString(scalarLit(v.scalar))
	}
}

func scalarLit(s any) string {
	switch x := s.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		f := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(f, ".eEn") {
			f += ".0"
		}
		return f
	case string:
		return literal.String.Quote(x)
	}
	panic(fmt.Sprintf("importer: scalar of type %T", s))
}

// label is key as a CUE label: always quoted, so that no key binds an
// identifier the generated expressions use (cue fmt leaves the quotes).
func label(key string) string {
	return literal.Label.Quote(key)
}
