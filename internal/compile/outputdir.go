package compile

import (
	"cuelang.org/go/cue"

	"github.com/fleetc/fleetc/internal/diag"
	"github.com/fleetc/fleetc/internal/load"
)

// outputPath is where, in the platform settings, the output directory is.
var outputPath = cue.ParsePath("output")

// checkOutput checks platform.output in the platform settings pv, s
// decoded: a directory inside the module that fleetc can own (see
// load.Platform.SettingProblem). A problem is reported where the setting
// is written.
func checkOutput(p *load.Platform, pv cue.Value, s *Settings) diag.List {
	msg := p.SettingProblem(s.Output, s.ApplicationSets.Handwritten)
	if msg == "" {
		return nil
	}
	at := pv.LookupPath(outputPath)
	if !at.Exists() {
		// Reported where the settings are, for want of a line of its own.
		at, msg = pv, `is missing: want the output directory, relative to the module root, such as "deploy"`
	}
	return diag.List{{Pos: at.Pos().Position(), Path: "platform.output", Message: msg}}
}
