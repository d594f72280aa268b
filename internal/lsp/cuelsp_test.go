package lsp_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestCueLSPResolvesImports: the platform stays a CUE module that the
// official language server (`cue lsp`, of the cue version fleetc is built
// with) understands, next to fleetc's: in the shared file of the clusters
// package, `defs.#Cluster` leads to its definition in defs/.
func TestCueLSPResolvesImports(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyPlatform(t, dir)
	c := startClient(t, func(in io.Reader, out io.Writer) error {
		cmd := exec.Command(self, "lsp")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), testAs+"=cue", "CUE_REGISTRY=none")
		cmd.Stdin, cmd.Stdout = in, out
		return cmd.Run()
	})
	r := c.call("initialize", map[string]any{
		"processId":        nil,
		"rootUri":          fileURI(dir),
		"workspaceFolders": []any{map[string]any{"uri": fileURI(dir), "name": "platform"}},
		"capabilities":     map[string]any{},
	})
	if r.Error != nil {
		t.Fatalf("initialize: %s", r.Error.Message)
	}
	c.notify("initialized", map[string]any{})

	path := filepath.Join(dir, "clusters", "platform.cue")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c.open(fileURI(path), string(data))
	line, char := at(t, string(data), "defs.#Cluster")
	r = c.call("textDocument/definition", map[string]any{
		"textDocument": map[string]any{"uri": fileURI(path)},
		"position":     map[string]any{"line": line, "character": char + len("defs.#")},
	})
	if r.Error != nil {
		t.Fatalf("definition: %s", r.Error.Message)
	}
	var locs []struct {
		URI   string `json:"uri"`
		Range struct {
			Start struct{ Line int } `json:"start"`
		} `json:"range"`
	}
	if err := json.Unmarshal(r.Result, &locs); err != nil {
		t.Fatalf("definition: %v: %s", err, r.Result)
	}
	defs, err := os.ReadFile(filepath.Join(dir, "defs", "cluster.cue"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := at(t, string(defs), "\n#Cluster:")
	if len(locs) != 1 || locs[0].URI != fileURI(filepath.Join(dir, "defs", "cluster.cue")) || locs[0].Range.Start.Line != want+1 {
		t.Errorf("definition of defs.#Cluster = %s, want defs/cluster.cue line %d", r.Result, want+1)
	}
	c.call("shutdown", nil)
	c.notify("exit", nil)
}
