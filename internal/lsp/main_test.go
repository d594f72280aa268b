package lsp_test

import (
	"os"
	"testing"

	cuecmd "cuelang.org/go/cmd/cue/cmd"

	"github.com/fleetc/fleetc/internal/cli"
)

// testAs makes the test binary act as fleetc or as the cue CLI (of the
// version fleetc is built with), so that a test can start a language
// server as an editor would, without building one.
const testAs = "FLEETC_TEST_AS"

func TestMain(m *testing.M) {
	switch os.Getenv(testAs) {
	case "fleetc":
		os.Exit(cli.Main())
	case "cue":
		os.Exit(cuecmd.Main())
	}
	os.Exit(m.Run())
}
