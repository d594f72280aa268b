package scaffold

import (
	"bytes"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"cuelang.org/go/cue/literal"
	"cuelang.org/go/mod/module"

	"github.com/fleetc/fleetc"
	"github.com/fleetc/fleetc/internal/output"
	"github.com/fleetc/fleetc/internal/render"
	"github.com/fleetc/fleetc/internal/testplatform"
)

// reference is the reference platform's own options: init with them
// writes the top-level files unchanged.
var reference = Options{Module: "fleetc.dev/platform@v0", Example: fleetc.ExampleCluster}

// added are the files init writes besides the platform's.
var added = []string{WorkflowFile, GitignoreFile, ReadmeFile}

func filesOf(t *testing.T, platform fs.FS, o Options) map[string][]byte {
	t.Helper()
	if err := o.Check(); err != nil {
		t.Fatal(err)
	}
	list, err := Files(platform, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSortedFunc(list, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) }) {
		t.Error("Files are not sorted by path")
	}
	out := map[string][]byte{}
	for _, f := range list {
		out[f.Path] = f.Data
	}
	return out
}

// platformPaths are the paths of the embedded platform.
func platformPaths(t *testing.T) []string {
	t.Helper()
	var paths []string
	err := fs.WalkDir(fleetc.Platform(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func readRepo(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testplatform.Repo(), filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestFilesAreTheReference: with the reference platform's own module path
// and no flags, init writes the repository's top-level files byte for
// byte, and the three files of its own.
func TestFilesAreTheReference(t *testing.T) {
	got := filesOf(t, fleetc.Platform(), reference)
	paths := platformPaths(t)
	want := slices.Concat(paths, added)
	slices.Sort(want)
	if keys := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	}); !slices.Equal(keys, want) {
		t.Fatalf("init writes\n%q\nwant\n%q", keys, want)
	}
	for _, p := range paths {
		if !bytes.Equal(got[p], readRepo(t, p)) {
			t.Errorf("%s differs from the repository's", p)
		}
	}
}

// TestFilesSubstituted: with a module path, repositories and a secret
// store of its own, each file differs from the repository's in the lines
// of the documented substitutions only, each made exactly once.
func TestFilesSubstituted(t *testing.T) {
	o := Options{
		Module:      "example.com/acme/platform@v1",
		ValuesRepo:  "https://git.example.com/acme/values.git",
		CatalogRepo: "ssh://git@git.example.com:2222/acme/catalog.git",
		SecretStore: "acme-vault",
		Example:     fleetc.ExampleCluster,
	}
	got := filesOf(t, fleetc.Platform(), o)
	q := literal.String.Quote
	// The substitutions, as lines of the reference and lines of the
	// result, per file.
	type sub struct{ from, to string }
	subs := map[string][]sub{
		ModuleFile:              {{`module: "fleetc.dev/platform@v0"`, `module: ` + q(o.Module)}},
		"clusters/platform.cue": {{`import "fleetc.dev/platform/defs"`, `import "example.com/acme/platform/defs"`}},
		SettingsFile: {
			{`		name:            "platform-vault"`, `		name:            ` + q(o.SecretStore)},
			{`		catalog: "git@git.corp.local:mirror/kubernetes-service-catalog.git"`, `		catalog: ` + q(o.CatalogRepo)},
			{`		values:  "git@git.corp.local:platformteam/service-value-repo"`, `		values:  ` + q(o.ValuesRepo)},
		},
		"argocd/handwritten/tanzu-storage-classes.yaml": {{`        repoURL: git@git.corp.local:mirror/kubernetes-service-catalog.git`, `        repoURL: ` + o.CatalogRepo}},
	}
	for _, p := range platformPaths(t) {
		old := strings.Split(string(readRepo(t, p)), "\n")
		now := strings.Split(string(got[p]), "\n")
		if len(old) != len(now) {
			t.Errorf("%s: %d lines, want %d", p, len(now), len(old))
			continue
		}
		var diffs []sub
		for i := range old {
			if old[i] != now[i] {
				diffs = append(diffs, sub{old[i], now[i]})
			}
		}
		want := subs[p]
		slices.SortFunc(diffs, func(a, b sub) int { return strings.Compare(a.from, b.from) })
		slices.SortFunc(want, func(a, b sub) int { return strings.Compare(a.from, b.from) })
		if !slices.Equal(diffs, want) {
			t.Errorf("%s: changed lines\n%q\nwant\n%q", p, diffs, want)
		}
	}
	for _, p := range []string{WorkflowFile, ReadmeFile} {
		if !bytes.Contains(got[p], []byte("go install github.com/fleetc/fleetc/cmd/fleetc@latest")) {
			t.Errorf("%s does not install fleetc@latest for a fleetc without a release version", p)
		}
	}
	if !bytes.Contains(got[ReadmeFile], []byte("`"+o.Module+"`")) || !bytes.Contains(got[ReadmeFile], []byte("`"+fleetc.ExampleCluster+"`")) {
		t.Errorf("the README does not name the module and the example cluster:\n%s", got[ReadmeFile])
	}
}

// TestFilesPinRelease: a released fleetc installs itself in CI.
func TestFilesPinRelease(t *testing.T) {
	o := reference
	o.Version = "v1.4.2"
	got := filesOf(t, fleetc.Platform(), o)
	for _, p := range []string{WorkflowFile, ReadmeFile} {
		if bytes.Contains(got[p], []byte("@latest")) || !bytes.Contains(got[p], []byte("go install github.com/fleetc/fleetc/cmd/fleetc@v1.4.2\n")) {
			t.Errorf("%s does not install fleetc@v1.4.2:\n%s", p, got[p])
		}
	}
}

// TestFilesChecked: a reference platform where a substituted value is not
// where init expects it, once and as a plain literal, is an error rather
// than a repository that keeps the old value somewhere.
func TestFilesChecked(t *testing.T) {
	base := fstest.MapFS{}
	for _, p := range platformPaths(t) {
		data, _ := fs.ReadFile(fleetc.Platform(), p)
		base[p] = &fstest.MapFile{Data: data}
	}
	o := Options{Module: "example.com/p@v0", ValuesRepo: "https://x.example/v.git", SecretStore: "s"}
	for _, tc := range []struct {
		name, file, add, err string
	}{
		{"values twice", SettingsFile, "\nplatform: repos: values: \"git@other:x\"\n", `defs/platform.cue: platform.repos.values: found 2 times, want once`},
		{"store not a literal", SettingsFile, "", `platform.secretStore.name: not a string literal`},
		{"module twice", ModuleFile, "\nmodule: \"fleetc.dev/platform@v0\"\n", `cue.mod/module.cue: module: found 2 times, want once`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := maps(base)
			data := string(base[tc.file].Data)
			if tc.add == "" {
				data = strings.Replace(data, `name:            "platform-vault"`, `name:            "platform-" + "vault"`, 1)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(data + tc.add)}
			_, err := Files(fsys, o)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Files: %v, want an error with %q", err, tc.err)
			}
		})
	}
}

func maps(m fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestReplaceRepoURLs: repoURL values in every quoting YAML allows on one
// line are replaced, quoted as the new value needs, and nothing else is.
func TestReplaceRepoURLs(t *testing.T) {
	repos := map[string]string{"git@old:cat.git": "https://new.example/cat.git", "git@old:val.git": "git@new: val"}
	src := `# repoURL: git@old:cat.git stays in a comment
a:
  repoURL: git@old:cat.git
  other: git@old:cat.git
  sources:
    - repoURL: "git@old:val.git"
      path: x
    - {repoURL: 'git@old:cat.git', path: y}
    - repoURL: git@old:unrelated.git
    - repoURL: https://new.example/cat.git
---
b: {repoURL: "git@old:cat.git"}  # ünïcode before the end
`
	want := `# repoURL: git@old:cat.git stays in a comment
a:
  repoURL: https://new.example/cat.git
  other: git@old:cat.git
  sources:
    - repoURL: 'git@new: val'
      path: x
    - {repoURL: https://new.example/cat.git, path: y}
    - repoURL: git@old:unrelated.git
    - repoURL: https://new.example/cat.git
---
b: {repoURL: https://new.example/cat.git}  # ünïcode before the end
`
	got, err := replaceRepoURLs("x.yaml", []byte(src), repos)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestReplaceRepoURLsFlow: a new URL with a character that ends a value
// in a flow collection is quoted there; a quoted URL with an escape is not
// guessed at.
func TestReplaceRepoURLsFlow(t *testing.T) {
	repos := map[string]string{"git@old:cat.git": "https://new.example/a,b"}
	got, err := replaceRepoURLs("x.yaml", []byte("a: {repoURL: git@old:cat.git, path: y}\n"), repos)
	if want := "a: {repoURL: \"https://new.example/a,b\", path: y}\n"; err != nil || string(got) != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	escaped := map[string]string{"git@old:cat.git'": "x:y"}
	if _, err := replaceRepoURLs("x.yaml", []byte("a: {repoURL: 'git@old:cat.git''', path: y}\n"), escaped); err == nil {
		t.Error("replaceRepoURLs replaced a single-quoted URL with an escaped quote")
	}
}

// TestGitignore: the .gitignore covers what a killed fleetc leaves, and
// not the ledger, which is committed.
func TestGitignore(t *testing.T) {
	var patterns []string
	for _, l := range strings.Split(string(gitignore()), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	ignored := func(name string) bool {
		for _, p := range patterns {
			if ok, _ := path.Match(p, name); ok {
				return true
			}
		}
		return false
	}
	if ignored(output.LedgerName) {
		t.Errorf("%s is ignored", output.LedgerName)
	}
	for _, name := range []string{".fleetc-lock", ".fleetc-temps", ".fleetc-tmp-ABC-1", ".fleetc-123.tmp"} {
		if !ignored(name) {
			t.Errorf("%s is not ignored by %q", name, patterns)
		}
	}
}

// TestFilesRefuseInvalid: Files checks its options itself.
func TestFilesRefuseInvalid(t *testing.T) {
	for _, o := range []Options{{}, {Module: "local"}, {Module: "example.com/p", SecretStore: "A"}} {
		if _, err := Files(fleetc.Platform(), o); err == nil {
			t.Errorf("Files(%+v) made a repository", o)
		}
	}
}

// TestWorkflowIsDocsCI: the workflow init writes is the GitHub Actions
// workflow of docs/ci.md, but for how fleetc is installed.
func TestWorkflowIsDocsCI(t *testing.T) {
	doc := string(readRepo(t, "docs/ci.md"))
	_, rest, ok := strings.Cut(doc, "`.github/workflows/platform.yaml`:\n\n```yaml\n")
	if !ok {
		t.Fatal("docs/ci.md has no .github/workflows/platform.yaml block")
	}
	docs, _, _ := strings.Cut(rest, "```\n")
	ours, err := fs.ReadFile(files, "files/platform.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Our header comment, and the install lines, are ours.
	_, body, _ := strings.Cut(string(ours), "\nname: platform\n")
	install := regexp.MustCompile(`(?m)^( *)go install \S+$`)
	norm := func(s string) string { return install.ReplaceAllString(s, "${1}go install FLEETC") }
	if norm("name: platform\n"+body) != norm(docs) {
		t.Errorf("files/platform.yaml is not docs/ci.md's workflow:\n%s\nwant\n%s", norm("name: platform\n"+body), norm(docs))
	}
}

func TestInstallVersion(t *testing.T) {
	for v, want := range map[string]string{
		"v1.2.3":                             "v1.2.3",
		"v0.3.0-rc.1":                        "v0.3.0-rc.1",
		"(devel)":                            "latest",
		"":                                   "latest",
		"v1.2.3+dirty":                       "latest",
		"v0.0.0-20261206030000-abcdefabcdef": "latest",
		"v1.2.4-0.20261206030000-abcdefabcdef+dirty": "latest",
		"v1.2.4-0.20261206030000-abcdefabcdef":       "latest",
	} {
		if got := InstallVersion(v); got != want {
			t.Errorf("InstallVersion(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestCheckModule: init takes the module paths cue mod init takes
// (module.CheckPath), except "local", whose packages cannot be imported.
func TestCheckModule(t *testing.T) {
	for _, p := range []string{
		"example.com/platform@v0", "example.com/platform", "example.com/a/b@v2", "x.y",
		"", "local", "Example.com/p", "example/p", "example.com/p@v0.1.0", "example.com//p",
		"example.com/p@", "example.com/p@v01", "-example.com/p", "example.com/.p", "example.com/p/",
	} {
		err := CheckModule(p)
		cueOK := module.CheckPath(p) == nil && p != "local"
		if (err == nil) != cueOK {
			t.Errorf("CheckModule(%q) = %v; cue mod init accepts it: %v", p, err, cueOK)
		}
	}
}

func TestCheckRepo(t *testing.T) {
	for repo, ok := range map[string]bool{
		"git@git.corp.local:mirror/catalog.git": true,
		"git.corp.local:mirror/catalog.git":     true,
		"https://github.com/acme/values":        true,
		"ssh://git@host:2222/x.git":             true,
		"oci://registry.example.com/charts":     true,
		"":                                      false,
		"catalog":                               false,
		"https:///x":                            false,
		"git@host:":                             false,
		"a b:c":                                 false,
		"host:x\n":                              false,
		"dir/x:y":                               false,
	} {
		if err := CheckRepo(repo); (err == nil) != ok {
			t.Errorf("CheckRepo(%q) = %v, want ok %v", repo, err, ok)
		}
	}
}
