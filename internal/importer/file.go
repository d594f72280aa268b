package importer

import (
	"maps"
	"slices"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/format"

	"github.com/fleetc/fleetc/internal/load"
)

// File returns the source of c's cluster file, formatted as `cue fmt`
// formats it: the cluster under `clusters:` in package clusters, with a
// comment that says where it came from and what it left out.
func File(c Cluster) ([]byte, error) {
	body := ast.NewStruct(
		field("env", ast.NewString(c.Env)),
		field("server", ast.NewString(c.Server)),
	)
	if len(c.Bundles) > 0 {
		bundles := ast.NewStruct()
		for _, b := range c.Bundles {
			bundles.Elts = append(bundles.Elts, &ast.Field{Label: ast.NewStringLabel(b), Value: ast.NewBool(true)})
		}
		body.Elts = append(body.Elts, field("bundles", bundles))
	}
	if len(c.Labels) > 0 {
		body.Elts = append(body.Elts, field("labels", stringMap(c.Labels)))
	}
	if len(c.Annotations) > 0 {
		body.Elts = append(body.Elts, field("annotations", stringMap(c.Annotations)))
	}
	if !c.ArgoCD.empty() {
		a := ast.NewStruct()
		if c.ArgoCD.Project != "" {
			a.Elts = append(a.Elts, field("project", ast.NewString(c.ArgoCD.Project)))
		}
		if len(c.ArgoCD.Namespaces) > 0 {
			var ns []ast.Expr
			for _, n := range c.ArgoCD.Namespaces {
				ns = append(ns, ast.NewString(n))
			}
			a.Elts = append(a.Elts, field("namespaces", ast.NewList(ns...)))
		}
		if c.ArgoCD.ClusterResources {
			a.Elts = append(a.Elts, field("clusterResources", ast.NewBool(true)))
		}
		body.Elts = append(body.Elts, field("argocd", a))
	}

	// A struct without braces: clusters: "<name>": {...}.
	cluster := field(load.ClustersField, &ast.StructLit{Elts: []ast.Decl{field(c.Name, body)}})
	doc := []string{"// Imported by fleetc from " + c.Source + "."}
	if len(c.LeftOut) > 0 {
		doc = append(doc, "// Left out, as the platform has no place for them:")
		for _, l := range c.LeftOut {
			doc = append(doc, "//   "+l)
		}
	}
	cg := &ast.CommentGroup{Doc: true}
	for _, l := range doc {
		cg.List = append(cg.List, &ast.Comment{Text: l})
	}
	ast.AddComment(cluster, cg)
	f := &ast.File{Decls: []ast.Decl{
		&ast.Package{Name: ast.NewIdent(load.ClustersField)},
		cluster,
	}}
	return format.Node(f, format.Simplify())
}

func field(label string, v ast.Expr) *ast.Field {
	return &ast.Field{Label: ast.NewStringLabel(label), Value: v}
}

// stringMap is a struct of string fields in key order.
func stringMap(m map[string]string) *ast.StructLit {
	s := ast.NewStruct()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s.Elts = append(s.Elts, field(k, ast.NewString(m[k])))
	}
	return s
}
