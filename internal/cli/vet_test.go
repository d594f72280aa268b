package cli

import (
	"bytes"
	"testing"

	"cuelang.org/go/cue/token"

	"github.com/fleetc/fleetc/internal/diag"
)

func TestGitHubEscaping(t *testing.T) {
	tests := []struct {
		name string
		d    diag.Diagnostic
		want string
	}{
		{
			name: "message with line breaks and percent",
			d:    diag.Diagnostic{Pos: token.Position{Filename: "/w/clusters/a.cue", Line: 3, Column: 7}, Cluster: "a", Path: "x", Message: "100% wrong:\r\nsee, here"},
			want: "::error file=clusters/a.cue,line=3,col=7,title=fleetc::a: x: 100%25 wrong:%0D%0Asee, here\n",
		},
		{
			name: "file name with comma and colon",
			d:    diag.Diagnostic{Pos: token.Position{Filename: "/w/odd,name:1%.cue", Line: 1, Column: 1}, Message: "m"},
			want: "::error file=odd%2Cname%3A1%25.cue,line=1,col=1,title=fleetc::m\n",
		},
		{
			name: "file without a line",
			d:    diag.Diagnostic{Pos: token.Position{Filename: "/w/defs/x.cue"}, Message: "m"},
			want: "::error file=defs/x.cue,title=fleetc::m\n",
		},
		{
			name: "outside the working directory",
			d:    diag.Diagnostic{Pos: token.Position{Filename: "/elsewhere/x.cue", Line: 2, Column: 1}, Message: "m"},
			want: "::error file=/elsewhere/x.cue,line=2,col=1,title=fleetc::m\n",
		},
		{
			name: "no place",
			d:    diag.Diagnostic{Message: "no CUE module"},
			want: "::error title=fleetc::no CUE module\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeGitHub(&b, "/w", diag.List{tt.d}); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got  %q\nwant %q", b.String(), tt.want)
			}
		})
	}
}
