package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/tools/txtar"
)

// TestReadmeQuickstart runs the README's quickstart as a script: the
// commands it shows are the commands the test runs, in order, and the
// files it shows are the files the test writes. What cannot run here is
// mapped, each in one way: `go install` of fleetc is the test binary,
// which is fleetc; `kubectl apply -f FILE` (there is no hub) checks that
// FILE exists and is an Argo CD Application. `fleetc diff` exits 1 when
// it shows changes, as the quickstart's diff does. Any other command the
// quickstart adds fails this test until it is mapped here.
func TestReadmeQuickstart(t *testing.T) {
	repo := repoDir()
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := quickstartScript(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "readme_quickstart.txtar"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("the quickstart as a script:\n%s", script)
	testscript.Run(t, scriptParams(repo, dir))
}

// backticked finds `path.cue` in prose: the file a CUE block of the
// quickstart is written to.
var backticked = regexp.MustCompile("`([^`]+\\.cue)`")

// quickstartScript turns the README's "## Quickstart" section into a
// testscript.
func quickstartScript(readme string) ([]byte, error) {
	_, section, ok := strings.Cut(readme, "\n## Quickstart\n")
	if !ok {
		return nil, fmt.Errorf("README.md has no ## Quickstart section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var cmds []string
	ar := &txtar.Archive{}
	lines := strings.Split(section, "\n")
	target := "" // the last .cue path named in prose
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if !strings.HasPrefix(line, "```") {
			if m := backticked.FindAllStringSubmatch(line, -1); m != nil {
				target = m[len(m)-1][1]
			}
			continue
		}
		lang := strings.TrimPrefix(line, "```")
		var block []string
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			block = append(block, lines[i])
		}
		switch lang {
		case "sh":
			for _, c := range shellCommands(block) {
				mapped, err := mapCommand(c)
				if err != nil {
					return nil, err
				}
				cmds = append(cmds, mapped...)
			}
		case "cue":
			if target == "" {
				return nil, fmt.Errorf("a cue block of the quickstart names no file before it")
			}
			name := fmt.Sprintf("_readme/%d.cue", len(ar.Files))
			ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(strings.Join(block, "\n") + "\n")})
			cmds = append(cmds, fmt.Sprintf("cp $WORK/%s %s", name, target))
		default:
			return nil, fmt.Errorf("quickstart: a code block in %q, which the test cannot run", lang)
		}
	}
	if len(cmds) == 0 {
		return nil, fmt.Errorf("the quickstart has no commands")
	}
	ar.Comment = []byte("# The README's quickstart, made by TestReadmeQuickstart.\n[!git] skip 'needs git'\n" + strings.Join(cmds, "\n") + "\n")
	return txtar.Format(ar), nil
}

// shellCommands splits a block of shell lines into commands: comments
// dropped, continuation lines joined, `a && b` split.
func shellCommands(block []string) []string {
	var out []string
	var cur string
	for _, l := range block {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if c, _, ok := strings.Cut(l, "  # "); ok {
			l = c
		}
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\")
			continue
		}
		for _, c := range strings.Split(cur+l, " && ") {
			out = append(out, strings.Join(strings.Fields(c), " "))
		}
		cur = ""
	}
	return out
}

// mapCommand is a shell command of the quickstart as testscript lines,
// its words quoted as testscript reads them.
func mapCommand(shell string) ([]string, error) {
	words, err := shellWords(shell)
	if err != nil {
		return nil, fmt.Errorf("quickstart command %q: %v", shell, err)
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = w
		if w == "" || strings.ContainsAny(w, " '\"#$") {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", "''") + "'"
		}
	}
	c := strings.Join(quoted, " ")
	word, rest, _ := strings.Cut(c, " ")
	switch {
	case c == "go install github.com/fleetc/fleetc/cmd/fleetc@latest":
		return []string{"# " + c + ": the test binary is fleetc", "fleetc version"}, nil
	case word == "fleetc" && strings.HasPrefix(rest, "diff"):
		return []string{"! fleetc " + rest, "stdout ."}, nil
	case word == "fleetc":
		return []string{c}, nil
	case word == "cd":
		return []string{c}, nil
	case word == "git", word == "sed", word == "cp", word == "mkdir":
		return []string{"exec " + c}, nil
	case word == "kubectl" && strings.HasPrefix(rest, "apply -f "):
		file := strings.TrimPrefix(rest, "apply -f ")
		return []string{"# " + c + ": no hub here", "exists " + file, "grep '^kind: Application$' " + file}, nil
	}
	return nil, fmt.Errorf("quickstart command %q: TestReadmeQuickstart does not know how to run it", c)
}

// shellWords splits a command into words as a POSIX shell does for the
// quoting a README uses: single and double quotes, backslash escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t':
			if inWord {
				words, inWord = append(words, cur.String()), false
				cur.Reset()
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i, inWord = i+1+j, true
		case '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			inWord = true
		case '\\':
			if i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			}
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
