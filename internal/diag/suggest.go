package diag

import "strings"

// Suggest returns the name among candidates nearest to name, for a
// "did you mean" hint, and whether one is near enough to be worth saying.
// Nearness is the optimal string alignment distance (insertions,
// deletions, substitutions and swaps of two neighbouring letters each
// count one) between the names in lower case, so a difference of case
// alone is distance 0, the nearest there is. A candidate is near enough
// when that distance is at most 1 plus one for every six letters of name,
// and smaller than the candidate's own length, so that a short name is
// never "corrected" into an unrelated one. Among candidates equally near,
// the first wins: callers pass them in the schema's order.
func Suggest(name string, candidates []string) (string, bool) {
	limit := 1 + len([]rune(name))/6
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestDist && d < len([]rune(c)) {
			best, bestDist = c, d
		}
	}
	return best, best != ""
}

// distance is the optimal string alignment distance between a and b, by
// runes.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// d[i][j] is the distance between s[:i] and t[:j].
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
