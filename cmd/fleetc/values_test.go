package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/fleetc/fleetc/internal/importer"
	"github.com/fleetc/fleetc/internal/valuesgen"
)

// valuesTreeCmd implements `valuestree [-unused] DIR N SEED`: an old
// templater's output for a generated fleet of N clusters, DIR/cluster/...,
// and the Argo CD cluster Secrets of its clusters, DIR/secrets.json.
func valuesTreeCmd(repo string) func(ts *testscript.TestScript, neg bool, args []string) {
	return func(ts *testscript.TestScript, neg bool, args []string) {
		var opts valuesgen.Options
		if len(args) > 0 && args[0] == "-unused" {
			opts.Unused, args = true, args[1:]
		}
		if neg || len(args) != 3 {
			ts.Fatalf("usage: valuestree [-unused] DIR N SEED")
		}
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		seed, err := strconv.ParseUint(args[2], 10, 64)
		ts.Check(err)
		work, err := os.MkdirTemp("", "valuestree")
		ts.Check(err)
		defer os.RemoveAll(work)
		ts.Check(valuesgen.Write(repo, work, ts.MkAbs(args[0]), n, seed, opts))
	}
}

// valuesDiffCmd implements `valuesdiff WANT GOT`: every values file that
// is only in one of two values trees, or differs as data (key order
// ignored), one per line on stdout; it fails if there is any.
func valuesDiffCmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: valuesdiff WANT GOT")
	}
	want, err := importer.ReadValuesTree(ts.MkAbs(args[0]), args[0])
	ts.Check(err)
	got, err := importer.ReadValuesTree(ts.MkAbs(args[1]), args[1])
	ts.Check(err)
	diffs := importer.CompareTrees(want, got)
	for _, d := range diffs {
		fmt.Fprintln(ts.Stdout(), d)
	}
	if (len(diffs) > 0) != neg {
		ts.Fatalf("%d values files differ", len(diffs))
	}
}
