package cli

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetc/fleetc/internal/testplatform"
)

// plantedJWT is a token that no file of the reference platform holds.
const plantedJWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZ1enoifQ.eyJzdWIiOiJzeXN0ZW06c2E6ZnV6eiJ9.ZnV6ei1wbGFudGVkLXNpZ25hdHVyZS0wMDAx"

// plantedExpr writes secret as a CUE expression in one of the ways a
// careless or hostile user could: a literal, base64 of it, pieces joined
// by +, an interpolation of lets, a URL's password. It returns the
// expression, any declarations it needs before it in the cluster struct,
// and the text that must never be shown (for a split value, a part that
// spans the cut, which only the composed value holds).
func plantedExpr(form, cut uint8) (decls, expr, secret string) {
	s := plantedJWT
	i := 1 + int(cut)%(len(s)-2)
	lo, hi := max(0, i-6), min(len(s), i+6)
	switch form % 6 {
	case 0:
		return "", fmt.Sprintf("%q", s), s
	case 1:
		b := base64.StdEncoding.EncodeToString([]byte(s))
		return "", fmt.Sprintf("%q", b), b
	case 2:
		return "", fmt.Sprintf("%q + %q", s[:i], s[i:]), s[lo:hi]
	case 3:
		return fmt.Sprintf("let a = %q\n\tlet b = %q\n\t", s[:i], s[i:]), `"\(a)\(b)"`, s[lo:hi]
	case 4:
		b := base64.RawURLEncoding.EncodeToString([]byte(s))
		j := 1 + int(cut)%(len(b)-2)
		return "", fmt.Sprintf("%q + %q", b[:j], b[j:]), b[max(0, j-6):min(len(b), j+6)]
	default:
		pw := "fuzzPW" + strings.Repeat("x", int(cut)%9)
		return fmt.Sprintf("let pw = %q\n\t", pw), `"https://ci:\(pw)@git.corp.local/x.git"`, pw
	}
}

// FuzzPlantedCredential plants a credential, encoded or composed, as an
// annotation value or key of a new cluster, and runs `fleetc compile` with
// a cache: it must fail, and the credential must appear nowhere, in what it
// printed, the output tree or the cache.
func FuzzPlantedCredential(f *testing.F) {
	for form := range uint8(6) {
		f.Add(form, uint8(17), false)
	}
	f.Add(uint8(2), uint8(90), true)
	base := f.TempDir()
	if err := testplatform.Copy(base); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, form, cut uint8, asKey bool) {
		decls, expr, secret := plantedExpr(form, cut)
		if asKey {
			expr = "(" + expr + "): \"x\""
		} else {
			expr = `"corp.local/note": ` + expr
		}
		dir := t.TempDir()
		platform, out, cache := filepath.Join(dir, "p"), filepath.Join(dir, "out"), filepath.Join(dir, "cache")
		if err := os.CopyFS(platform, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
		src := fmt.Sprintf("package clusters\n\nclusters: \"planted-dev\": {\n\tenv:    \"dev\"\n\tserver: \"https://planted-dev.k8s.corp.local:6443\"\n\t%sannotations: %s\n}\n", decls, expr)
		if err := os.WriteFile(filepath.Join(platform, "clusters", "planted-dev.cue"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		env := map[string]string{"FLEETC_CACHE": cache}
		code := Run([]string{"compile", "--out", out}, IO{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Cwd: platform})
		if code == 0 {
			t.Fatalf("compile accepted a planted credential:\n%s", src)
		}
		// A key fails Kubernetes' rules first; its error shows it hidden.
		if !strings.Contains(stderr.String(), "credential") && !(asKey && strings.Contains(stderr.String(), "***")) {
			t.Fatalf("compile failed for another reason:\n%s\n%s", src, &stderr)
		}
		for name, text := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
			if strings.Contains(text, secret) {
				t.Fatalf("%s shows %q:\n%s", name, secret, text)
			}
		}
		for _, root := range []string{out, cache} {
			filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte(secret)) {
					t.Fatalf("%s holds %q", path, secret)
				}
				return nil
			})
		}
	})
}
