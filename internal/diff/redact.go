package diff

import (
	"bytes"
	"cmp"
	"slices"
	"strings"

	"github.com/fleetc/fleetc/internal/credentials"
	"github.com/fleetc/fleetc/internal/fan"
	"github.com/fleetc/fleetc/internal/render"
)

// minRedact is the shortest secret a Redactor replaces: shorter ones
// would hide ordinary words, and are no secret worth the name anyway.
const minRedact = 4

// Redactor replaces known secret values in any text: the second line of
// defence, for values that also sit where the masking rules do not look
// (an error message quoting a value, a password pasted into a label).
type Redactor struct {
	r *strings.Replacer
}

// NewRedactor learns the secret values of every file of the sides.
func NewRedactor(sides ...Side) *Redactor {
	// A file that is the same on several sides is read once.
	var files []render.File
	seen := map[string][]byte{}
	for _, s := range sides {
		for _, f := range s.Files {
			if data, ok := seen[f.Path]; ok && bytes.Equal(data, f.Data) {
				continue
			}
			seen[f.Path] = f.Data
			files = append(files, f)
		}
	}
	// Files alike but for their leading comments (fleetc's header names
	// the cluster: most values files are shared between clusters) are
	// parsed once. Parsing is most of the cost; spread it over the CPUs.
	var bodies []render.File // the first file of each body
	byBody := map[string]bool{}
	for _, f := range files {
		if b := uncommented(f.Data); !byBody[string(b)] {
			byBody[string(b)] = true
			bodies = append(bodies, render.File{Path: f.Path, Data: b})
		}
	}
	found := make([][]string, len(bodies))
	fan.Each(len(bodies), 0, func(i int) string { return "find the secrets of " + bodies[i].Path },
		func(i int) { found[i] = Secrets(bodies[i].Data) })

	known := map[string]bool{}
	var values []string
	for _, vs := range found {
		for _, v := range vs {
			// A multi-line secret (a key, a certificate) is also redacted
			// line by line.
			for _, s := range append(strings.Split(v, "\n"), v) {
				s = strings.TrimSpace(s)
				if len(s) >= minRedact && !known[s] {
					known[s] = true
					values = append(values, s)
				}
			}
		}
	}
	// Longest first, so a secret is replaced whole before any part of it.
	slices.SortFunc(values, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	pairs := make([]string, 0, 2*len(values))
	for _, v := range values {
		pairs = append(pairs, v, Mask)
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// Redact returns s with every known secret value replaced by Mask, and
// anything else shaped like a credential (credentials.Scrub): a token
// pasted into the output on disk is no secret value of a Secret, but a
// pull-request comment must not show it either.
func (r *Redactor) Redact(s string) string {
	if r != nil && r.r != nil {
		s = r.r.Replace(s)
	}
	return credentials.Scrub(s)
}

// Redact replaces known secret values in the lines of r's hunks.
func (r *Report) Redact(red *Redactor) {
	redact := func(hs []Hunk) {
		for i := range hs {
			for j, l := range hs[i].Lines {
				hs[i].Lines[j] = red.Redact(l)
			}
		}
	}
	for i := range r.Files {
		redact(r.Files[i].Hunks)
	}
	for i := range r.Groups {
		redact(r.Groups[i].Hunks)
	}
}

// uncommented is data without the comment lines it starts with, which hold
// no value and so no secret.
func uncommented(data []byte) []byte {
	for bytes.HasPrefix(data, []byte("#")) {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return nil
		}
		data = data[i+1:]
	}
	return data
}
