// Package scaffold makes the files of a new platform repository for
// `fleetc init`: the reference platform (fleetc.Platform) with the new
// module path, repositories and secret store put in, plus a CI workflow, a
// .gitignore and a README. It returns the files; output writes them.
//
// Every substitution is made at the position where the CUE (or YAML)
// syntax tree places the value it replaces, and checked: the value must be
// found exactly once and the file must parse afterwards. So the files are
// byte for byte those of the reference platform except for the values
// substituted, and a reference platform that moved a value is an error here
// rather than a repository that silently kept the old one.
package scaffold

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"text/template"

	"cuelang.org/go/mod/module"
	modsemver "golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
)

// Paths of the reference platform that init edits, and of the files it
// adds to it.
const (
	ModuleFile    = "cue.mod/module.cue"
	SettingsFile  = "defs/platform.cue"
	HandwrittenAt = "argocd/handwritten"
	WorkflowFile  = ".github/workflows/platform.yaml"
	GitignoreFile = ".gitignore"
	ReadmeFile    = "README.md"
)

// The fields of the settings file that init fills in, as CUE paths.
var (
	ValuesRepoPath  = []string{"platform", "repos", "values"}
	CatalogRepoPath = []string{"platform", "repos", "catalog"}
	SecretStorePath = []string{"platform", "secretStore", "name"}
	modulePath      = []string{"module"}
)

// fleetcPackage is what the CI workflow and the README install.
const fleetcPackage = "github.com/fleetc/fleetc/cmd/fleetc"

//go:embed files
var files embed.FS

// Options say what is new about the platform repository.
type Options struct {
	// Module is the CUE module path, as `cue mod init` takes it
	// (CheckModule).
	Module string
	// ValuesRepo and CatalogRepo are the repositories of
	// platform.repos; empty keeps the reference platform's.
	ValuesRepo, CatalogRepo string
	// SecretStore is the name of platform.secretStore; empty keeps the
	// reference platform's.
	SecretStore string
	// Version is the module version of the running fleetc, which the CI
	// workflow and the README install when it is a release
	// (InstallVersion); anything else installs the latest.
	Version string
	// Example is the name of the example cluster, for the README.
	Example string
}

// Check reports the first option that is not valid, naming its flag.
func (o Options) Check() error {
	if err := CheckModule(o.Module); err != nil {
		return fmt.Errorf("--module: %w", err)
	}
	if o.ValuesRepo != "" {
		if err := CheckRepo(o.ValuesRepo); err != nil {
			return fmt.Errorf("--values-repo: %w", err)
		}
	}
	if o.CatalogRepo != "" {
		if err := CheckRepo(o.CatalogRepo); err != nil {
			return fmt.Errorf("--catalog-repo: %w", err)
		}
	}
	if o.SecretStore != "" {
		if errs := validation.IsDNS1123Subdomain(o.SecretStore); len(errs) > 0 {
			return fmt.Errorf("--secret-store: %q is not a valid name for a Kubernetes object: %s", o.SecretStore, strings.Join(errs, "; "))
		}
	}
	return nil
}

// CheckModule reports whether path is a module path that `cue mod init`
// accepts (cuelang.org/go/mod/module.CheckPath: a domain-like first
// element, and an optional major version such as @v0) and whose packages
// can be imported, which rules out "local": an import path whose first
// element has no dot names a package of CUE's standard library.
func CheckModule(path string) error {
	if path == "" {
		return errors.New("a CUE module path is required, such as example.com/platform@v0")
	}
	if err := module.CheckPath(path); err != nil {
		return err
	}
	if base, _, _ := strings.Cut(path, "@"); !strings.Contains(strings.Split(base, "/")[0], ".") {
		return fmt.Errorf("module path %q cannot be imported from: its first element needs a dot, such as example.com/platform@v0", path)
	}
	return nil
}

// CheckRepo reports whether repo is a repository URL Argo CD can clone
// from: a URL with a scheme and a host (https://, ssh://, oci://…) or the
// scp-like form of ssh, [user@]host:path.
func CheckRepo(repo string) error {
	if strings.IndexFunc(repo, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("repository URL %q holds a space or a control character", repo)
	}
	if strings.Contains(repo, "://") {
		u, err := url.Parse(repo)
		if err != nil {
			return fmt.Errorf("repository URL %q: %w", repo, err)
		}
		if u.Host == "" {
			return fmt.Errorf("repository URL %q has no host", repo)
		}
		return nil
	}
	host, p, ok := strings.Cut(repo, ":")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = host[at+1:]
	}
	if !ok || host == "" || p == "" || strings.Contains(host, "/") {
		return fmt.Errorf("repository URL %q is neither a URL (https://host/path) nor [user@]host:path", repo)
	}
	return nil
}

// InstallVersion is the version of fleetc to install in the new
// repository's CI: the running fleetc's own module version when it is a
// release that the module proxy serves (v1.2.3, v1.3.0-rc.1), and "latest"
// otherwise: (devel), a build from a clone with local changes (+dirty) or
// a pseudo-version of a commit that may never have been pushed.
func InstallVersion(v string) string {
	if !semver.IsValid(v) || semver.Build(v) != "" || modsemver.IsPseudoVersion(v) {
		return "latest"
	}
	return v
}

// Files returns the files of a new platform repository: those of platform
// (the reference platform, see fleetc.Platform) with o's module path,
// repositories and secret store substituted, and the CI workflow,
// .gitignore and README, sorted by path.
func Files(platform fs.FS, o Options) ([]render.File, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	src := map[string][]byte{}
	err := fs.WalkDir(platform, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(platform, p)
		src[p] = data
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for p, data := range src {
		out[p] = data
	}

	// The module path, and every import of the module's own packages.
	oldModule, err := stringAt(src, ModuleFile, modulePath)
	if err != nil {
		return nil, err
	}
	if out[ModuleFile], err = substitute(ModuleFile, src[ModuleFile], modulePath, o.Module); err != nil {
		return nil, err
	}
	for p, data := range src {
		if path.Ext(p) != ".cue" || p == ModuleFile {
			continue
		}
		if out[p], err = rewriteImports(p, data, oldModule, o.Module); err != nil {
			return nil, err
		}
	}

	// The repositories and the secret store. A hand-written
	// ApplicationSet that names one of the reference platform's
	// repositories names the new one.
	repoURLs := map[string]string{}
	for _, s := range []struct {
		path []string
		to   string
	}{{ValuesRepoPath, o.ValuesRepo}, {CatalogRepoPath, o.CatalogRepo}, {SecretStorePath, o.SecretStore}} {
		if s.to == "" {
			continue
		}
		old, err := stringAt(src, SettingsFile, s.path)
		if err != nil {
			return nil, err
		}
		if out[SettingsFile], err = substitute(SettingsFile, out[SettingsFile], s.path, s.to); err != nil {
			return nil, err
		}
		if s.path[1] == "repos" {
			repoURLs[old] = s.to
		}
	}
	for p, data := range out {
		if !strings.HasPrefix(p, HandwrittenAt+"/") || (path.Ext(p) != ".yaml" && path.Ext(p) != ".yml") {
			continue
		}
		if out[p], err = replaceRepoURLs(p, data, repoURLs); err != nil {
			return nil, err
		}
	}

	// What a repository of its own needs besides the platform.
	version := InstallVersion(o.Version)
	workflow, err := fs.ReadFile(files, "files/platform.yaml")
	if err != nil {
		return nil, err
	}
	latest := []byte(fleetcPackage + "@latest")
	if bytes.Count(workflow, latest) != 2 {
		return nil, fmt.Errorf("scaffold: the CI workflow installs fleetc %d times, want 2 (one per job)", bytes.Count(workflow, latest))
	}
	out[WorkflowFile] = bytes.ReplaceAll(workflow, latest, []byte(fleetcPackage+"@"+version))
	out[GitignoreFile] = gitignore()
	readme, err := template.ParseFS(files, "files/README.md")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = readme.Execute(&b, map[string]string{"Module": o.Module, "Version": version, "Example": o.Example})
	if err != nil {
		return nil, err
	}
	out[ReadmeFile] = b.Bytes()

	list := make([]render.File, 0, len(out))
	for p, data := range out {
		list = append(list, render.File{Path: p, Data: data})
	}
	slices.SortFunc(list, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) })
	return list, nil
}

// gitignore is the new repository's .gitignore: what fleetc may leave
// behind when it is killed, by the names output gives it.
func gitignore() []byte {
	var b bytes.Buffer
	b.WriteString("# Left behind only by a fleetc that was killed while it wrote; the next\n")
	b.WriteString("# compile removes them. " + output.LedgerName + " is not among them: it records\n")
	b.WriteString("# which files fleetc owns and is committed with the output.\n")
	for _, p := range output.Leftovers() {
		b.WriteString(p + "\n")
	}
	b.WriteString("# fleetc's build cache, where CI keeps it inside the repository.\n")
	b.WriteString("/.fleetc-cache/\n")
	return b.Bytes()
}

// stringAt is the string at path in the CUE file name of src.
func stringAt(src map[string][]byte, name string, path []string) (string, error) {
	data, ok := src[name]
	if !ok {
		return "", fmt.Errorf("the reference platform has no %s", name)
	}
	_, s, err := findString(name, data, path)
	return s, err
}
