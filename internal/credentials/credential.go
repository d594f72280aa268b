// Package credentials says which keys name credentials: compile refuses
// literal strings under them in CUE sources, and diff masks their values.
// One list, so that what one refuses the other hides.
package credentials

import "strings"

// Suffixes end the lowercased, separator-free names of keys whose values
// are credentials: adminPassword, api_token, clientSecret,
// secretAccessKey.
var Suffixes = []string{"password", "passwd", "passphrase", "token", "apikey", "privatekey", "secretkey", "secretaccesskey", "clientsecret", "secret"}

// IsName reports whether a key names a credential. existingSecret and the
// like name a Secret, not its content.
func IsName(name string) bool {
	n := Normalize(name)
	if strings.HasPrefix(n, "existing") {
		return false
	}
	for _, s := range Suffixes {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}

// Normalize lowercases a key and drops the characters that join its words.
func Normalize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, strings.ToLower(s))
}
