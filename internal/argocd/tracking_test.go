package argocd

import "testing"

// TestTrackingMethodValid: Argo CD's three methods and the empty setting
// are valid; another spelling is not.
func TestTrackingMethodValid(t *testing.T) {
	for _, m := range append([]TrackingMethod{""}, TrackingMethods...) {
		if !m.Valid() {
			t.Errorf("%q: not valid", m)
		}
	}
	for _, m := range []TrackingMethod{"Label", "annotation-label", "label+annotation", " label"} {
		if m.Valid() {
			t.Errorf("%q: valid", m)
		}
	}
	if len(TrackingMethods) != 3 {
		t.Errorf("TrackingMethods = %q, want Argo CD's three", TrackingMethods)
	}
}
