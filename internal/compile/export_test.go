package compile

// SetFastMin sets the fewest clusters a compile must have to evaluate
// apps alone, for tests of small fleets, and returns what undoes it.
func SetFastMin(n int) (restore func()) {
	old := fastMin
	fastMin = n
	return func() { fastMin = old }
}
