package lsp_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// neovimInit starts fleetc's language server for the file being edited
// the way the README tells Neovim users to (with the API of Neovim 0.7,
// which Debian bookworm has), waits for the file to be checked, replaces
// its env line with FLEETC_LINE and writes the diagnostics Neovim then
// holds for the buffer to FLEETC_OUT as JSON.
const neovimInit = `
local out = os.getenv("FLEETC_OUT")
local function finish(result)
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(result))
  f:close()
  vim.cmd("qa!")
end

local function main()
  vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("FLEETC_FILE")))
  local buf = vim.api.nvim_get_current_buf()
  local published = 0
  local client = vim.lsp.start_client({
    name = "fleetc",
    cmd = { os.getenv("FLEETC_BIN"), "lsp" },
    root_dir = vim.fn.expand("%:p:h:h"),
    handlers = {
      ["textDocument/publishDiagnostics"] = function(err, result, ctx, config)
        published = published + 1
        return vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      end,
    },
  })
  vim.lsp.buf_attach_client(buf, client)
  if not vim.wait(20000, function() return published > 0 end, 10) then
    return { error = "no diagnostics for the file as it is" }
  end
  if #vim.diagnostic.get(buf) > 0 then
    return { error = "diagnostics for a valid file", diagnostics = vim.diagnostic.get(buf) }
  end

  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if line:match("^%s*env:") then
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, { os.getenv("FLEETC_LINE") })
    end
  end
  if not vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 10) then
    return { error = "no diagnostics after the edit" }
  end
  local got = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(got, { lnum = d.lnum, col = d.col, end_col = d.end_col, message = d.message, source = d.source })
  end
  return { diagnostics = got }
end

local ok, result = pcall(main)
if not ok then
  result = { error = tostring(result) }
end
finish(result)
`

// TestNeovim is the end-to-end test: a real editor (Neovim, headless)
// runs fleetc's language server on a copy of the reference platform, an
// edit breaks a cluster, and the diagnostic Neovim shows is at the right
// line and column, past multi-byte characters whose UTF-16 length differs
// from their length in bytes.
func TestNeovim(t *testing.T) {
	nvim, err := exec.LookPath("nvim")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("nvim is not on PATH: .ci/run installs it, so CI never skips this test")
		}
		t.Skip("nvim is not on PATH (apt-get install neovim)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	path, text := referenceCluster(t)
	tmp := t.TempDir()
	initFile := filepath.Join(tmp, "init.lua")
	if err := os.WriteFile(initFile, []byte(neovimInit), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "diagnostics.json")
	const newLine = "\tannotations: \"fleetc.dev/note\": \"größe 🚀\", env: \"qa\""

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-n", "-c", "luafile "+initFile)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(),
		testAs+"=fleetc",
		"FLEETC_BIN="+self,
		"FLEETC_FILE="+path,
		"FLEETC_OUT="+out,
		"FLEETC_LINE="+newLine,
		// Neovim's state (its LSP log) stays in the test's directory.
		"XDG_STATE_HOME="+tmp, "XDG_CACHE_HOME="+tmp, "XDG_DATA_HOME="+tmp, "XDG_CONFIG_HOME="+tmp,
	)
	start := time.Now()
	output, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nvim: %v\n%s", err, output)
	}
	t.Logf("nvim ran for %s", time.Since(start).Round(time.Millisecond))
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("nvim wrote no result: %v\n%s", err, output)
	}
	var raw struct {
		Error       string           `json:"error"`
		Diagnostics []map[string]any `json:"diagnostics"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if raw.Error != "" {
		t.Fatalf("in nvim: %s (%s)\n%s", raw.Error, data, logOf(tmp))
	}
	if len(raw.Diagnostics) != 1 {
		t.Fatalf("diagnostics = %s, want one", data)
	}
	d := raw.Diagnostics[0]
	// Neovim counts lines from 0 and columns in bytes from 0, as CUE
	// does from 1.
	line, _ := at(t, text, "\tenv:")
	col := strings.Index(newLine, `"qa"`)
	if d["lnum"] != float64(line) || d["col"] != float64(col) || d["end_col"] != float64(col+4) {
		t.Errorf("diagnostic at %v:%v-%v, want %d:%d-%d", d["lnum"], d["col"], d["end_col"], line, col, col+4)
	}
	if want := `env: "qa" matches none of "dev" | "prod" | "staging"`; d["message"] != want || d["source"] != "fleetc" {
		t.Errorf("diagnostic = %v, want message %q from fleetc", d, want)
	}
}

// logOf returns Neovim's LSP log, if it wrote one under dir.
func logOf(dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".log") {
			data, _ := os.ReadFile(path)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}
