package cli

import (
	"sync"
	"testing"
)

// TestCrashedCarriesPanic: a panic on another goroutine reaches the
// goroutine that runs the command, where Run turns it into a short
// message.
func TestCrashedCarriesPanic(t *testing.T) {
	var c crashed
	var wg sync.WaitGroup
	wg.Go(func() { defer c.catch(); panic("boom") })
	wg.Go(func() { defer c.catch() })
	wg.Wait()
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	c.raise()
	t.Error("raise did not panic")
}
