package diag

import (
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"
)

// TestFromCUEDisjunctions pins what a user sees for a value that fits no
// alternative of a field: one line, whatever the shape of the disjunction.
func TestFromCUEDisjunctions(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{{
		// Every alternative is another value: one line that lists them.
		name: "enum",
		src:  `x: *"a" | "b" | "c", x: "d"`,
		want: `x: "d" matches none of "a" | "b" | "c"`,
	}, {
		// That "90days" is not the default is noise: what is wrong is the
		// pattern it breaks.
		name: "default or pattern",
		src:  `x: *"30d" | =~"^[1-9][0-9]*[hdwy]$", x: "90days"`,
		want: `x: invalid value "90days" (out of bound =~"^[1-9][0-9]*[hdwy]$")`,
	}, {
		// The default is itself one of several values: its own failed
		// disjunction is part of the outer one.
		name: "nested default",
		src:  `d: "m" & ("k" | "e" | "m"), x: *d | "k" | "e", x: "b"`,
		want: `x: "b" matches none of "e" | "k" | "m"`,
	}, {
		// A value that meets an enum and then another value: CUE also
		// reports the enum's disjunction failing, which only repeats the
		// conflict.
		name: "conflict through an enum",
		src:  `#E: "a" | "b" | "c", e: #E & "b", x: e & "c"`,
		want: `x: conflicting values "b" and "c"`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			err := cuecontext.New().CompileString(tc.src).Validate(cue.Concrete(true))
			if err == nil {
				t.Fatal("no error")
			}
			ds := FromCUE(err, "", "", token.NoPos, nil)
			var got []string
			for _, d := range ds {
				got = append(got, d.Path+": "+d.Message)
			}
			if strings.Join(got, "\n") != tc.want {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// TestFromCUENeverEmpty: an error whose parts all are rewritten away (here
// a failed disjunction without its alternatives) still reaches the user.
func TestFromCUENeverEmpty(t *testing.T) {
	err := cueerrors.Newf(token.NoPos, disjunctionFormat, 2)
	ds := FromCUE(err, "c1", "", token.NoPos, nil)
	if len(ds) != 1 || ds[0].Cluster != "c1" || !strings.Contains(ds[0].Message, "empty disjunction") {
		t.Fatalf("got %+v, want the error itself", ds)
	}
}

func TestHideUnder(t *testing.T) {
	for _, tc := range []struct {
		path      []string
		msg, want string
	}{
		{[]string{"annotations", `"corp/password"`}, `invalid value "PlantedVal12345" (out of bound =~"^x")`, `invalid value *** (out of bound =~***)`},
		{[]string{"values", "db", "adminPwd"}, `conflicting values "a" and "b"`, `conflicting values *** and ***`},
		{[]string{"values", "env", "0"}, `invalid value "x"`, `invalid value "x"`},
		{[]string{"env"}, `conflicting values "dev" and "prod"`, `conflicting values "dev" and "prod"`},
	} {
		if got := hideUnder(tc.path, tc.msg); got != tc.want {
			t.Errorf("%v: %s\ngot  %s\nwant %s", tc.path, tc.msg, got, tc.want)
		}
	}
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXBsYW50ZWQ"
	if got := (Diagnostic{Path: "labels.team", Message: `invalid value "` + jwt + `"`}).Scrubbed().Message; got != `invalid value "***"` {
		t.Errorf("Scrubbed: %s", got)
	}
}
