package diff

import "testing"

// TestParallelPanic: a panic in a worker comes back to the caller.
func TestParallelPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recovered %v, want boom", r)
		}
	}()
	parallel(8, func(i int) {
		if i == 5 {
			panic("boom")
		}
	})
	t.Error("parallel returned")
}
