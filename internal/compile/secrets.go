package compile

import (
	"fmt"
	"regexp"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// SecretAttr is the attribute that marks a field of the cluster schema as
// a secret, filled by fleetc when it runs and never by a CUE file:
//
//	bearerToken?: string @secret(env=FLEETC_TOKEN_{NAME})
//	caData?:      string @secret(file=/run/secrets/fleetc/{name}/ca.crt)
//
// env names an environment variable, file a file (relative to the working
// directory). In either, {name} stands for the cluster's name and {NAME}
// for it in upper case with dashes as underscores, so that one attribute
// gives each cluster a source of its own. A further `optional` argument
// lets the source be missing.
//
// CUE never sees the value: an app whose values referred to a secret field
// would not be concrete, so a secret cannot reach the committed output.
const SecretAttr = "secret"

// The secret fields that fleetc itself uses, relative to a cluster: they
// go into the inline Argo CD cluster Secret.
const (
	// BearerTokenPath is the token Argo CD authenticates with.
	BearerTokenPath = "credentials.bearerToken"
	// CADataPath is the CA of the cluster's API server.
	CADataPath = "credentials.caData"
)

// SecretSource says where the value of one secret field of one cluster is
// read from: an environment variable or a file, exactly one of them.
type SecretSource struct {
	Env  string
	File string
}

// String names the source for messages.
func (s SecretSource) String() string {
	if s.Env != "" {
		return "environment variable " + s.Env
	}
	return "file " + s.File
}

// SecretReader reads the value at src. It reports ok false when the
// variable is unset or empty, or the file does not exist. Its errors never
// contain the value.
type SecretReader func(src SecretSource) (value string, ok bool, err error)

// Secret is the value of one secret field of a cluster.
type Secret struct {
	Source SecretSource
	Value  string
}

// secretField is a field of the cluster schema marked with SecretAttr.
type secretField struct {
	path      cue.Path // relative to the cluster, without optionality
	env, file string   // templates
	optional  bool
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// source is where the field's value comes from for cluster name.
func (sf secretField) source(name string) SecretSource {
	r := strings.NewReplacer("{name}", name, "{NAME}", strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
	return SecretSource{Env: r.Replace(sf.env), File: r.Replace(sf.file)}
}

// schemaSecrets finds the fields of the cluster schema marked as secrets.
// A malformed attribute is an error at its field.
func schemaSecrets(schema cue.Value) ([]secretField, diag.List) {
	var fields []secretField
	var ds diag.List
	var walk func(v cue.Value, path []cue.Selector)
	walk = func(v cue.Value, path []cue.Selector) {
		iter, err := v.Fields(cue.Optional(true))
		if err != nil {
			return
		}
		for iter.Next() {
			fv := iter.Value()
			p := append(append([]cue.Selector(nil), path...), cue.Str(iter.Selector().Unquoted()))
			if a := fv.Attribute(SecretAttr); a.Err() == nil {
				sf, err := parseSecretAttr(a, fv)
				if err != "" {
					ds = append(ds, diag.Diagnostic{Pos: fv.Pos().Position(), Path: "#Cluster." + cue.MakePath(p...).String(), Message: fmt.Sprintf("@%s(%s): %s", SecretAttr, a.Contents(), err)})
					continue
				}
				sf.path = cue.MakePath(p...)
				fields = append(fields, sf)
				continue
			}
			if fv.IncompleteKind() == cue.StructKind {
				walk(fv, p)
			}
		}
	}
	walk(schema, nil)
	return fields, ds
}

// parseSecretAttr reads @secret(env=NAME|file=PATH[,optional]), or says
// what is wrong with it.
func parseSecretAttr(a cue.Attribute, v cue.Value) (secretField, string) {
	var sf secretField
	for i := range a.NumArgs() {
		key, value := a.Arg(i)
		switch {
		case key == "env" && value != "":
			sf.env = value
		case key == "file" && value != "":
			sf.file = value
		case key == "optional" && value == "":
			sf.optional = true
		default:
			return sf, fmt.Sprintf("unknown argument %q: want env=NAME or file=PATH, and optional", key)
		}
	}
	switch {
	case (sf.env == "") == (sf.file == ""):
		return sf, "want exactly one of env=NAME and file=PATH"
	case v.IncompleteKind() != cue.StringKind:
		return sf, fmt.Sprintf("a secret is a string, and this field is %v", v.IncompleteKind())
	case sf.env != "" && !envName.MatchString(sf.source("a").Env):
		return sf, fmt.Sprintf("%q is not an environment variable name, even with {NAME} filled in ({name} has dashes)", sf.env)
	}
	return sf, ""
}

// secretsSet reports the secret fields that a cluster file sets: they are
// filled from their source, and a credential must not be in git.
func secretsSet(f *load.ClusterFile, own cue.Value, fields []secretField) diag.List {
	var out diag.List
	for _, sf := range fields {
		v := own.LookupPath(sf.path)
		if !v.Exists() {
			continue
		}
		out = append(out, diag.Diagnostic{
			Pos: posIn(v, f), Cluster: f.Name, Path: sf.path.String(),
			Message: fmt.Sprintf("is a secret, which a cluster file must not set: fleetc reads it from %s when it needs it", sf.source(f.Name)),
		})
	}
	return out
}

// readSecrets reads the secret fields of c.
func readSecrets(c *Cluster, pos token.Pos, fields []secretField, read SecretReader) diag.List {
	var out diag.List
	fail := func(sf secretField, format string, args ...any) {
		out = append(out, diag.Diagnostic{Pos: pos.Position(), Cluster: c.Name, Path: sf.path.String(), Message: fmt.Sprintf(format, args...)})
	}
	for _, sf := range fields {
		src := sf.source(c.Name)
		value, ok, err := read(src)
		switch {
		case err != nil:
			fail(sf, "read %s: %v", src, err)
		case !ok && sf.optional:
		case !ok && src.Env != "":
			fail(sf, "%s is not set", src)
		case !ok:
			fail(sf, "%s does not exist", src)
		default:
			if c.Secrets == nil {
				c.Secrets = map[string]Secret{}
			}
			c.Secrets[sf.path.String()] = Secret{Source: src, Value: value}
		}
	}
	return out
}
