package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fleetc/fleetc/internal/compile"
	"github.com/fleetc/fleetc/internal/load"
)

// Where compile puts cluster credentials.
const (
	// secretsExternal commits an ExternalSecret per cluster; the
	// credentials stay in the secret store.
	secretsExternal = "external"
	// secretsInline also writes each cluster's Argo CD cluster Secret, with
	// its credentials, outside the git work tree.
	secretsInline = "inline"
)

// maxSecret bounds what a secret file may hold.
const maxSecret = 1 << 20

// secretsFlags are compile's flags for cluster credentials.
type secretsFlags struct {
	mode string
	out  string
}

func (f *secretsFlags) bind(c *cobra.Command) {
	c.Flags().StringVar(&f.mode, "cluster-secrets", secretsExternal, "`how` clusters get their credentials: external (an ExternalSecret reads them from the secret store) or inline (also write Argo CD cluster Secrets with them into --secrets-out)")
	c.Flags().StringVar(&f.out, "secrets-out", "", "`directory` for the cluster Secrets of --cluster-secrets=inline; it must be outside the git work tree")
}

// dir checks the flags and returns the absolute secrets directory, or ""
// when compile writes no Secrets. Before anything is read, it refuses a
// directory inside a git work tree or inside the platform's module, which
// is the CUE module around start, if any; and, as for any directory fleetc
// owns, the file system's root or a directory that holds the module.
func (f *secretsFlags) dir(cwd, start string, check bool) (string, error) {
	switch {
	case f.mode != secretsExternal && f.mode != secretsInline:
		return "", usageError{fmt.Errorf("--cluster-secrets=%s: want %s or %s", f.mode, secretsExternal, secretsInline)}
	case f.mode == secretsExternal && f.out != "":
		return "", usageError{errors.New("--secrets-out is only for --cluster-secrets=inline")}
	case f.mode == secretsExternal:
		return "", nil
	case strings.TrimSpace(f.out) == "":
		return "", usageError{errors.New("--cluster-secrets=inline needs --secrets-out DIR, a directory outside the git work tree")}
	case check:
		return "", usageError{errors.New("--check writes nothing: it takes no --cluster-secrets=inline")}
	}
	dir := f.out
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(cwd, dir)
	}
	real := load.RealPath(dir)
	if filepath.Dir(real) == real {
		return "", unownable(dir, "the file system's root")
	}
	for d := real; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return "", refusal(dir, "inside the git work tree "+d)
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	// Without a module, compile fails soon enough and says why.
	if root, err := load.FindRoot(start); err == nil {
		switch r := load.RealPath(root); {
		case load.Within(real, r):
			return "", refusal(dir, "inside the platform's module "+root)
		case load.Within(r, real):
			return "", unownable(dir, "a directory that holds the platform's module "+root)
		}
	}
	return dir, nil
}

// refuseSecretsDir refuses a secrets directory that overlaps the output
// directory, wherever that is.
func refuseSecretsDir(dir, out string) error {
	if real, o := load.RealPath(dir), load.RealPath(out); load.Within(real, o) || load.Within(o, real) {
		return refusal(dir, "where the output directory "+out+" is")
	}
	return nil
}

// refusal and unownable are usage errors, exit 2 as for a bad --out:
// the flag names a directory fleetc will not write into.
func refusal(dir, where string) error {
	return usageError{fmt.Errorf("refusing to write cluster Secrets into %s: it is %s, and credentials must never be committed; choose a directory outside it (in CI, the runner's temporary directory)", dir, where)}
}

// unownable refuses a secrets directory that fleetc cannot own: it keeps
// a ledger at its root and prunes the Secrets it wrote there.
func unownable(dir, what string) error {
	return usageError{fmt.Errorf("refusing to write cluster Secrets into %s: it is %s, which fleetc cannot own; choose a directory of its own (in CI, one in the runner's temporary directory)", dir, what)}
}

// readSecret reads secrets from the environment and from files, relative
// to the working directory. A value ends at its last line: the newline a
// file usually ends with is not part of it.
func readSecret(io IO) compile.SecretReader {
	return func(src compile.SecretSource) (string, bool, error) {
		if src.Env != "" {
			if io.Getenv == nil {
				return "", false, nil
			}
			v := io.Getenv(src.Env)
			return v, v != "", nil
		}
		name := src.File
		if !filepath.IsAbs(name) {
			name = filepath.Join(io.Cwd, name)
		}
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			return "", false, nil
		}
		var pe *fs.PathError
		if err != nil {
			if errors.As(err, &pe) {
				err = pe.Err // the caller names the file
			}
			return "", false, err
		}
		defer f.Close()
		data, err := readAll(f)
		if err != nil {
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return "", false, err
		}
		v := strings.TrimRight(string(data), "\r\n")
		return v, v != "", nil
	}
}

func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecret+1))
	if err == nil && len(data) > maxSecret {
		err = fmt.Errorf("larger than %d bytes", maxSecret)
	}
	return data, err
}
