package lsp_test

import (
	"context"
	"encoding/json"
	"fmt"
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
  -- Stop the server (shutdown, then exit) and wait for its process to
  -- end: Neovim would leave without waiting, and a server still writing
  -- its cache into the test's directory races the test's removing it.
  for _, c in pairs(vim.lsp.get_active_clients()) do
    c.stop()
  end
  result.stopped = vim.wait(10000, function() return next(vim.lsp.get_active_clients()) == nil end, 10)
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

  -- Completion and hover at the places FLEETC_AT lists (method line col;
  -- ...), as Neovim's own commands request them.
  local answers = {}
  for method, l, c in os.getenv("FLEETC_AT"):gmatch("([%w/]+) (%d+) (%d+)") do
    local params = vim.lsp.util.make_position_params()
    params.position = { line = tonumber(l), character = tonumber(c) }
    local res = vim.lsp.buf_request_sync(buf, method, params, 20000)
    local got = vim.NIL
    for _, r in pairs(res or {}) do
      local e = r.error or r.err
      if e then got = { error = e.message } elseif r.result then got = r.result end
    end
    table.insert(answers, got)
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
  return { diagnostics = got, answers = answers }
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
	// Hover on env, completion of a label name in labels and of an env.
	var places []string
	for _, q := range []struct {
		method, s string
		off       int
	}{{"textDocument/hover", "\tenv:", 1}, {"textDocument/completion", "region", 0}, {"textDocument/completion", `"dev"`, 1}} {
		line, char := at(t, text, q.s)
		places = append(places, fmt.Sprintf("%s %d %d", q.method, line, char+q.off))
	}
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
		"FLEETC_AT="+strings.Join(places, ";"),
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
		Answers     []struct {
			Error    string `json:"error"`
			Contents struct {
				Kind, Value string
			} `json:"contents"`
			Items []struct {
				Label         string `json:"label"`
				Documentation struct {
					Value string `json:"value"`
				} `json:"documentation"`
			} `json:"items"`
		} `json:"answers"`
		Stopped bool `json:"stopped"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if raw.Error != "" {
		t.Fatalf("in nvim: %s (%s)\n%s", raw.Error, data, logOf(tmp))
	}
	if !raw.Stopped {
		t.Errorf("the language server was still running 10 s after Neovim asked it to shut down and exit\n%s", logOf(tmp))
	}
	if len(raw.Answers) != 3 {
		t.Fatalf("answers = %s, want 3", data)
	}
	for i, a := range raw.Answers {
		if a.Error != "" {
			t.Errorf("request %d: %s", i, a.Error)
		}
	}
	hover := raw.Answers[0]
	for _, want := range []string{"env selects the environment", "Value for sandbox-dev: `\"dev\"`", "set       clusters/sandbox-dev.cue:"} {
		if !strings.Contains(hover.Contents.Value, want) || hover.Contents.Kind != "markdown" {
			t.Errorf("hover on env lacks %q: %+v", want, hover)
		}
	}
	items := func(i int) map[string]string {
		m := map[string]string{}
		for _, it := range raw.Answers[i].Items {
			m[it.Label] = it.Documentation.Value
		}
		return m
	}
	if labels := items(1); !strings.Contains(labels["team"], "the team that owns") || len(labels) != 3 {
		t.Errorf("completion in labels = %v, want the vocabulary's three labels with their descriptions", labels)
	}
	if envs := items(2); len(envs) != 3 || !strings.Contains(envs[`"prod"`], `"retention":"30d"`) {
		t.Errorf("completion of env = %v, want the three envs with their settings", envs)
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
