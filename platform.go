// Package fleetc is the reference platform of this repository, embedded in
// the fleetc binary so that `fleetc init` can start a platform repository
// from it. The files embedded are the ones at the top of the repository, so
// there is one copy of the platform, and `go install
// github.com/fleetc/fleetc/cmd/fleetc@<version>` builds them in as well: a
// module zip holds every file that git tracks here.
package fleetc

import (
	"embed"
	"io/fs"
)

// ExampleCluster is the one cluster of the reference platform that a new
// platform repository starts with. It is payments-prod because it is the
// only one that the hand-written ApplicationSet in argocd/handwritten
// selects (provider: tanzu), so a new repository compiles as it is, and
// because it shows every kind of field a cluster file has: labels,
// annotations, an Argo CD project, a credentials key and overrides of the
// platform's defaults. The go:embed line below names its file.
const ExampleCluster = "payments-prod"

//go:embed cue.mod/module.cue defs clusters/platform.cue clusters/payments-prod.cue argocd/handwritten
var platform embed.FS

// Platform returns the reference platform as `fleetc init` writes it
// before its substitutions: cue.mod/module.cue, defs/, the shared file
// clusters/platform.cue, the example cluster and argocd/handwritten/, by
// slash-separated paths relative to the repository root.
func Platform() fs.FS { return platform }
