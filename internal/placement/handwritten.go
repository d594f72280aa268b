package placement

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue/token"
	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/diag"
)

// ReadHandwritten reads the hand-written ApplicationSets of a platform:
// every document of kind ApplicationSet in the .yaml and .yml files of
// dir, a directory relative to root, and its subdirectories. Other kinds
// are skipped. A missing dir holds none. Problems in the files come back
// as diagnostics beside the sets that could be read; a directory that
// cannot be read is an error.
func ReadHandwritten(root, dir string) ([]Set, diag.List, error) {
	if dir == "" {
		return nil, nil, nil
	}
	base := filepath.Join(root, filepath.FromSlash(dir))
	var files []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read hand-written ApplicationSets: %w", err)
	}
	sort.Strings(files)
	var sets []Set
	var ds diag.List
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("read hand-written ApplicationSets: %w", err)
		}
		rel, err := filepath.Rel(root, f)
		if err != nil {
			rel = f
		}
		s, d := ParseHandwritten(f, filepath.ToSlash(rel), data)
		sets = append(sets, s...)
		ds = append(ds, d...)
	}
	return sets, ds, nil
}

// ParseHandwritten parses the ApplicationSets of one YAML file, which may
// hold several documents. filename is the file's path for positions;
// source names it, relative to the module root, in the placement matrix.
// Each set records where its name, generators and selector keys are
// written, so that problems are reported at their line and column.
func ParseHandwritten(filename, source string, data []byte) ([]Set, diag.List) {
	at := func(n *yaml.Node) token.Position {
		return token.Position{Filename: filename, Line: n.Line, Column: n.Column}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var sets []Set
	var ds diag.List
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A syntax error ends the stream: nothing after it can be read.
			return nil, diag.List{yamlError(filename, err)}
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		top := doc.Content[0]
		if kind := get(top, "kind"); kind == nil || kind.Value != argocd.ApplicationSetKind {
			continue
		}
		s := Set{Source: source, Pos: at(top)}
		if err := top.Decode(&s.Object); err != nil {
			ds = append(ds, yamlError(filename, err))
			continue
		}
		name := get(get(top, "metadata"), "name")
		if name == nil || name.Value == "" {
			ds = append(ds, diag.Diagnostic{Pos: s.Pos, Message: "ApplicationSet without metadata.name"})
			continue
		}
		s.Pos = at(name)
		if n := get(get(get(get(top, "spec"), "template"), "metadata"), "name"); n != nil {
			s.TemplateName = at(n)
		}
		s.Spec = specPos(get(get(get(top, "spec"), "template"), "spec"), at)
		if gens := get(get(top, "spec"), "generators"); gens != nil && gens.Kind == yaml.SequenceNode {
			for _, g := range gens.Content {
				s.Generators = append(s.Generators, generatorPos(g, at))
			}
		}
		sets = append(sets, s)
	}
	return sets, ds
}

// generatorPos finds where a generator and the keys of its cluster
// selector are written.
func generatorPos(g *yaml.Node, at func(*yaml.Node) token.Position) GeneratorPos {
	gp := GeneratorPos{Pos: at(g), Keys: map[string]token.Position{}}
	sel := get(get(g, "clusters"), "selector")
	if ml := get(sel, "matchLabels"); ml != nil && ml.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(ml.Content); i += 2 {
			gp.Keys[ml.Content[i].Value] = at(ml.Content[i])
		}
	}
	if me := get(sel, "matchExpressions"); me != nil && me.Kind == yaml.SequenceNode {
		for _, e := range me.Content {
			if k := get(e, "key"); k != nil {
				if _, seen := gp.Keys[k.Value]; !seen {
					gp.Keys[k.Value] = at(k)
				}
			}
		}
	}
	return gp
}

// specPos finds where an Application template's spec says what its
// project checks: project, each source's repoURL (source first, then
// sources), the destination's namespace (or the destination) and the
// CreateNamespace sync option.
func specPos(spec *yaml.Node, at func(*yaml.Node) token.Position) SpecPos {
	var sp SpecPos
	first := func(ns ...*yaml.Node) token.Position {
		for _, n := range ns {
			if n != nil {
				return at(n)
			}
		}
		return token.Position{}
	}
	sp.Project = first(get(spec, "project"))
	if src := get(spec, "source"); src != nil {
		sp.Repos = append(sp.Repos, first(get(src, "repoURL"), src))
	}
	if srcs := get(spec, "sources"); srcs != nil && srcs.Kind == yaml.SequenceNode {
		for _, src := range srcs.Content {
			sp.Repos = append(sp.Repos, first(get(src, "repoURL"), src))
		}
	}
	d := get(spec, "destination")
	sp.Destination = first(get(d, "namespace"), get(d, "server"), get(d, "name"), d)
	if opts := get(get(spec, "syncPolicy"), "syncOptions"); opts != nil && opts.Kind == yaml.SequenceNode {
		for _, o := range opts.Content {
			if o.Value == argocd.CreateNamespaceOption {
				sp.CreateNamespace = at(o)
			}
		}
	}
	return sp
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// yamlLine finds the line yaml.v3 puts into its messages.
var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError places a yaml.v3 error at the line it names.
func yamlError(filename string, err error) diag.Diagnostic {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	d := diag.Diagnostic{Pos: token.Position{Filename: filename}}
	for i, m := range msgs {
		if loc := yamlLine.FindStringSubmatch(m); loc != nil {
			if i == 0 {
				d.Pos.Line, _ = strconv.Atoi(loc[1])
				d.Pos.Column = 1
			}
			m = strings.TrimPrefix(m, loc[0])
		}
		msgs[i] = strings.TrimPrefix(m, "yaml: ")
	}
	d.Message = "not a valid ApplicationSet: " + strings.Join(msgs, "; ")
	return d
}
