// Package credentials says what a credential looks like, so that fleetc can
// refuse one before it reaches git and hide one wherever it would be shown:
// keys that name credentials (compile refuses values under them, diff masks
// them), and strings that are credentials whatever key holds them (a token,
// a private key, a password in a URL, and the same in base64). One package,
// so that what one part refuses another hides.
package credentials

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Suffixes end the lowercased, separator-free names of keys whose values
// are credentials: adminPassword, api_token, clientSecret, secretAccessKey,
// db-pwd, rootPass, basicAuth, GOOGLE_APPLICATION_CREDENTIALS. A name is
// matched once trailing digits, one qualifier (tokenValue,
// credentialsJson, password_b64) and a plural s are taken off.
var Suffixes = []string{
	"password", "passwd", "pwd", "pass", "pw", "passphrase",
	"token", "secret", "apikey", "accesskey", "secretkey", "privatekey", "privkey", "signingkey",
	"encryptionkey", "masterkey", "sessionkey", "sshkey", "clientsecret", "secretaccesskey",
	"credential", "credentials", "auth", "authorization", "bearer", "cookie", "jwt", "kubeconfig",
	"connectionstring", "dsn",
}

// passwordSuffixes end the names of keys whose values are credentials even
// as numbers: a numeric password is still one, while a number under
// maxTokens is a count. A PIN (simPin, sim_pin) is one too.
var passwordSuffixes = []string{"password", "passwd", "pwd", "pass", "pw", "passphrase"}

// qualifiers end a credential's name without changing what it holds.
var qualifiers = []string{"value", "values", "json", "data", "string", "str", "b64", "base64", "raw", "plain", "plaintext", "content", "contents", "text"}

// IsName reports whether a key names a credential. existingSecret and the
// like name a Secret, not its content; bypass is no pass.
func IsName(name string) bool {
	return named(name, Suffixes) || isPin(name)
}

// IsPasswordName reports whether a key names a password, whose value is a
// credential even when it is a number.
func IsPasswordName(name string) bool {
	return named(name, passwordSuffixes) || isPin(name)
}

// named reports whether name, reduced to its stem, ends with one of
// suffixes, before or after one qualifier.
func named(name string, suffixes []string) bool {
	var buf [64]byte
	n := stem(name, buf[:0])
	if rest, ok := bytesCutPrefix(n, "existing"); ok && (bytesHasSuffix(rest, "secret") || bytesHasSuffix(rest, "secretname")) {
		return false
	}
	if bytesHasSuffix(n, "bypass") || bytesHasSuffix(n, "compass") {
		return false
	}
	if endsWith(n, suffixes) {
		return true
	}
	for _, q := range qualifiers {
		if len(n) > len(q) && bytesHasSuffix(n, q) {
			return endsWith(n[:len(n)-len(q)], suffixes)
		}
	}
	return false
}

// endsWith reports whether n ends with one of suffixes, or with its plural
// (passwords, apiKeys, secrets).
func endsWith(n []byte, suffixes []string) bool {
	for _, suf := range suffixes {
		if bytesHasSuffix(n, suf) || len(n) > 1 && n[len(n)-1] == 's' && bytesHasSuffix(n[:len(n)-1], suf) {
			return true
		}
	}
	return false
}

// stem appends to buf the name lowercased, without the characters that
// join words and trailing digits. With a buffer on
// the caller's stack it allocates nothing for names of up to 64 bytes: it
// runs on every key fleetc writes.
func stem(name string, buf []byte) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isSeparator(c) || c == '/' || c == ':' {
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	for len(buf) > 0 && buf[len(buf)-1] >= '0' && buf[len(buf)-1] <= '9' {
		buf = buf[:len(buf)-1]
	}
	return buf
}

// isPin reports whether name is a PIN: pin, simPin, sim_pin (not spin).
func isPin(name string) bool {
	l := len(name)
	if l < 3 || !strings.EqualFold(name[l-3:], "pin") {
		return false
	}
	return l == 3 || isSeparator(name[l-4]) || name[l-3] == 'P'
}

func bytesHasSuffix(b []byte, suf string) bool {
	return len(b) >= len(suf) && string(b[len(b)-len(suf):]) == suf
}

func bytesCutPrefix(b []byte, prefix string) ([]byte, bool) {
	if len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix {
		return b[len(prefix):], true
	}
	return b, false
}

func isSeparator(c byte) bool { return c == '-' || c == '_' || c == '.' || c == ' ' }

// reference matches a value that only refers to a credential kept
// elsewhere: Go template actions that read a field or variable and pipe
// it through functions, with no literal text (the "{{ .token }}" of an
// ExternalSecret template), or a variable as shells and Kubernetes expand
// them (${DB_PASSWORD}, $(DB_PASSWORD)). "{{ "hunter2" }}" holds a literal,
// and a comment could hide one.
var reference = regexp.MustCompile(`^\s*((\{\{-?\s*[.$][A-Za-z0-9_.]*(\s*\|\s*[A-Za-z_][A-Za-z0-9_]*)*\s*-?\}\}|\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$\([A-Za-z_][A-Za-z0-9_]*\))\s*)+$`)

// IsReference reports whether s only refers to a credential kept
// elsewhere, so that it may stand under a key that names one.
func IsReference(s string) bool {
	return reference.MatchString(s)
}

// A Finding is a credential found in a string: what it looks like, and the
// parts of the string to hide wherever it would be shown.
type Finding struct {
	What  string
	Parts []string
	// Named is set when the value is a credential because of the key that
	// holds it (Check), not its shape.
	Named bool
}

// Reason says why the value is a credential, for a message.
func (f Finding) Reason() string {
	if f.Named {
		return f.What
	}
	return "it looks like " + f.What
}

// shapes are strings that are credentials whatever key holds them. hints
// are substrings one of which every match holds: most strings hold none,
// and a substring search costs far less than a regular expression.
var shapes = []struct {
	hints []string
	re    *regexp.Regexp
	what  string
}{
	{[]string{"-----BEGIN "}, regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|CERTIFICATE)[A-Z0-9 ]*-----`), "a PEM block (a key or certificate)"},
	{[]string{"eyJ"}, regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{8,}`), "a JSON Web Token, such as a Kubernetes bearer token"},
	{[]string{"earer", "EARER"}, regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}`), "an HTTP bearer token"},
	{[]string{"gh", "github_pat_"}, regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}`), "a GitHub token"},
	{[]string{"glpat-"}, regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), "a GitLab token"},
	{[]string{"AKIA", "ASIA"}, regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), "an AWS access key"},
	{[]string{"xox", "hooks.slack.com"}, regexp.MustCompile(`\bxox[abprs]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}`), "a Slack token or webhook"},
	{[]string{"AIza"}, regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`), "a Google API key"},
	{[]string{"k_live_"}, regexp.MustCompile(`\b[rs]k_live_[0-9A-Za-z]{16,}`), "a Stripe key"},
	{[]string{"hvs.", "hvb.", "hvr."}, regexp.MustCompile(`\bhv[sbr]\.[A-Za-z0-9_-]{20,}`), "a Vault token"},
	{[]string{"sha256~"}, regexp.MustCompile(`\bsha256~[A-Za-z0-9_-]{40,}`), "an OpenShift bearer token"},
	{[]string{"npm_"}, regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`), "an npm token"},
	{[]string{"dckr_pat_"}, regexp.MustCompile(`\bdckr_pat_[A-Za-z0-9_-]{20,}`), "a Docker Hub token"},
	{[]string{"sk-"}, regexp.MustCompile(`\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}`), "an API secret key"},
	{[]string{"-----BEGIN OPENSSH", "PuTTY-User-Key"}, regexp.MustCompile(`-----BEGIN OPENSSH PRIVATE KEY-----|PuTTY-User-Key-File`), "an SSH private key"},
}

// urlUserinfo matches the userinfo of a URL (scheme://userinfo@); its
// second group is the userinfo. A password may hold what a URL should have
// escaped ('@', '/'), so after a colon the userinfo runs to the last '@'.
var urlUserinfo = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*)://([^\s/?#"'<>\\:@]*:[^\s"'<>\\]*|[^\s/?#"'<>\\]+)@`)

// base64Run matches a run of base64 text long enough to hide a credential
// (a JWT's header alone is longer), in either alphabet, padded or not.
var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{24,}={0,2}`) // minBase64

// maxDepth is how many layers of base64 Find looks through: base64 of a
// PEM block is what a Kubernetes Secret shows, and that again in base64
// what a Secret's manifest in a chart's values may hold.
const maxDepth = 3

// Find returns the first credential in s, if any: a known shape, a
// password (or a token-like user) in a URL, or either of those encoded in
// base64, as text or wrapped over lines.
func Find(s string) (Finding, bool) {
	if len(s) < minLen {
		return Finding{}, false
	}
	remember := len(s) <= maxCleanLen
	if remember {
		if _, ok := clean.Load(s); ok {
			return Finding{}, false
		}
	}
	f, ok := find(s, maxDepth)
	if !ok && remember && cleanCount.Add(1) <= maxClean {
		clean.Store(s, struct{}{})
	}
	return f, ok
}

// clean remembers strings Find found no credential in: a fleet's values
// files repeat the same keys and defaults for every cluster, and a map
// lookup costs a fraction of the shapes' regular expressions (7 % of a
// cold compile's CPU before). At most maxClean strings of at most
// maxCleanLen bytes, so that a fleet of unique long strings does not
// grow it without end. Find is a pure function of its string, so what it
// remembers is what it would find again.
var (
	clean      sync.Map
	cleanCount atomic.Int64
)

const (
	maxClean    = 1 << 17
	maxCleanLen = 256
)

func find(s string, depth int) (Finding, bool) {
	if len(s) < minLen {
		return Finding{}, false
	}
	for _, shape := range shapes {
		if !containsAny(s, shape.hints) {
			continue
		}
		if parts := shape.re.FindAllString(s, -1); len(parts) > 0 {
			return Finding{What: shape.what, Parts: parts}, true
		}
	}
	if f, ok := urlPassword(s); ok {
		return f, true
	}
	if f, ok := assignment(s); ok {
		return f, true
	}
	if f, ok := basicAuth(s); ok {
		return f, true
	}
	if depth == 0 || !hasBase64Run(s) {
		return Finding{}, false
	}
	for _, run := range base64Runs(s) {
		// Text before the base64 in the same run (x + base64) shifts
		// where its groups of four start: each start is tried.
		for k := range min(4, len(run.text)-minBase64+1) {
			if inner, ok := find(decodeBase64(run.text[k:]), depth-1); ok {
				return Finding{What: "a base64-encoded " + withoutArticle(inner.What), Parts: run.parts}, true
			}
		}
	}
	return Finding{}, false
}

// assigned matches a credential assigned in text: a command-line flag
// (--password=x), YAML, JSON or INI inside a string (password: x,
// "token":"x", secret = x), a connection string (Password=x;).
var assigned = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|client[_-]?secret|access[_-]?key|private[_-]?key)["']?[ \t]*[:=][ \t]*["']?([^\s"',;&}\]]{3,})`)

// assignment finds a credential assigned to a key named like one inside
// s, unless what is assigned refers to one kept elsewhere.
func assignment(s string) (Finding, bool) {
	if !containsFold(s, "pass", "pwd", "secret", "token", "key") {
		return Finding{}, false
	}
	var parts []string
	for _, m := range assigned.FindAllStringSubmatch(s, -1) {
		v := m[2]
		if IsReference(v) || strings.HasPrefix(v, "$") || strings.HasPrefix(v, "{{") || placeholder(v) {
			continue
		}
		parts = append(parts, v)
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	return Finding{What: "a credential assigned in text (password=…)", Parts: parts}, true
}

// basicHeader matches the value of an HTTP Basic authorization.
var basicHeader = regexp.MustCompile(`(?i)\bbasic\s+([A-Za-z0-9+/]{8,}={0,2})`)

// basicAuth finds "Basic <base64 of user:password>".
func basicAuth(s string) (Finding, bool) {
	if !containsFold(s, "basic") {
		return Finding{}, false
	}
	for _, m := range basicHeader.FindAllStringSubmatch(s, -1) {
		d := decodeBase64(m[1])
		if u, p, ok := strings.Cut(d, ":"); ok && u != "" && p != "" && printable(d) {
			return Finding{What: "an HTTP basic authorization (user:password in base64)", Parts: []string{m[1]}}, true
		}
	}
	return Finding{}, false
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// containsFold reports whether s holds one of subs (lowercase), in any
// case.
// It looks at each byte once and compares only where a sub could start:
// it runs on every string fleetc writes.
func containsFold(s string, subs ...string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // ASCII letters in lower case; others never match a sub's first letter
		for _, sub := range subs {
			if c == sub[0] && i+len(sub) <= len(s) && strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
	}
	return false
}

// placeholder reports whether v is a word that says no credential is set
// (none, false, disabled, changeme is not one) rather than being one.
func placeholder(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "enabled", "disabled", "required", "optional":
		return true
	}
	return false
}

// authMethods name ways to authenticate, which a key such as auth or
// authType holds rather than a credential.
var authMethods = map[string]bool{
	"basic": true, "bearer": true, "token": true, "oauth": true, "oauth2": true, "oidc": true, "jwt": true,
	"kubernetes": true, "approle": true, "ldap": true, "tls": true, "mtls": true, "iam": true, "aws": true,
	"gcp": true, "azure": true, "cert": true, "userpass": true, "anonymous": true, "serviceaccount": true, "sasl": true,
}

// withoutArticle drops the leading "a " or "an " of a description.
func withoutArticle(what string) string {
	for _, a := range []string{"a ", "an "} {
		if rest, ok := strings.CutPrefix(what, a); ok {
			return rest
		}
	}
	return what
}

// minLen is the length of the shortest credential Find recognises, a
// password in a URL such as "s://:pw@h".
const minLen = 8

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// urlPassword finds a URL whose userinfo holds a password
// (user:password@), or, for http and https, a user long enough to be a
// token (https://<token>@github.com). scp-like addresses
// (git@host:path) and ssh://git@host name a user, not a secret.
func urlPassword(s string) (Finding, bool) {
	if !strings.Contains(s, "@") {
		return Finding{}, false
	}
	// JSON escapes slashes: https:\/\/user:pw@host.
	s = strings.ReplaceAll(s, `\/`, "/")
	var parts []string
	for _, m := range urlUserinfo.FindAllStringSubmatch(s, -1) {
		scheme, info := strings.ToLower(m[1]), m[2]
		plain, err := url.PathUnescape(info)
		if err != nil {
			plain = info
		}
		user, pass, hasPass := strings.Cut(plain, ":")
		switch {
		case hasPass && pass != "" && !documented(user, pass):
			parts = append(parts, info)
		case (strings.HasSuffix(scheme, "http") || strings.HasSuffix(scheme, "https")) && len(user) >= 20:
			parts = append(parts, info)
		}
	}
	// Without a scheme: //user:pw@host, user:pw@tcp(db:3306)/app.
	for _, m := range bareUserinfo.FindAllStringSubmatch(s, -1) {
		user, pass, _ := strings.Cut(m[1], ":")
		if !digest.MatchString(m[2]) && !documented(user, pass) {
			parts = append(parts, m[1])
		}
	}
	if len(parts) == 0 {
		return Finding{}, false
	}
	return Finding{What: "a URL with a password (user:password@)", Parts: parts}, true
}

// documented reports whether user:pass is how documentation spells the
// form (user:password@), not a credential: fleetc's own messages say so.
func documented(user, pass string) bool {
	return user == "user" && (pass == "password" || pass == "pass")
}

// bareUserinfo matches user:password@host without a scheme, at the start
// of a word; its second group is the start of what follows the @, which
// must begin like a host ("00000:0@" alone is no address).
var bareUserinfo = regexp.MustCompile(`(?:^|[\s"'=(,;])(?://)?([\w.%+~-]+:[^\s@/"'<>\\:]+)@([A-Za-z0-9\[]\S{0,7})`)

// digest matches what follows the @ of an image reference with a tag and
// a digest (nginx:1.25@sha256:…), which is no password.
var digest = regexp.MustCompile(`^(sha256|sha384|sha512):`)

// minBase64 is the shortest run of base64 worth decoding: the base64 of
// the shortest credential with a shape (an AWS access key) is longer.
const minBase64 = 24

// hasBase64Run reports whether s has minBase64 base64 characters in a row,
// or that many over lines: a quick look before any regular expression.
func hasBase64Run(s string) bool {
	n, total := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '-', c == '_', c == '=':
			n++
			total++
			if n >= minBase64 {
				return true
			}
		case c == '\n' || c == '\r' || c == ' ' || c == '\t':
			n = 0
		default:
			n, total = 0, 0
		}
	}
	return total >= minBase64
}

// base64Text is text that may be base64, and the parts of the string it came from
// that show it.
type base64Text struct {
	text  string
	parts []string
}

// base64Runs are the runs of s that may be base64: each long run, and s
// itself without white space when it is base64 wrapped over lines (as a
// certificate is), whose parts are then its lines.
func base64Runs(s string) []base64Text {
	var runs []base64Text
	for _, r := range base64Run.FindAllString(s, -1) {
		runs = append(runs, base64Text{text: r, parts: []string{r}})
	}
	if fields := strings.Fields(s); len(fields) > 1 {
		joined := strings.Join(fields, "")
		if len(joined) >= minBase64 && base64Run.FindString(joined) == joined {
			runs = append(runs, base64Text{text: joined, parts: fields})
		}
	}
	return runs
}

// decodeBase64 decodes run in whichever alphabet it is written, padded or
// not; text that does not decode gives "".
func decodeBase64(run string) string {
	raw := strings.TrimRight(run, "=")
	if len(raw)%4 == 1 {
		raw = raw[:len(raw)-1]
	}
	url := strings.ContainsAny(raw, "-_")
	if url && strings.ContainsAny(raw, "+/") {
		return ""
	}
	out := make([]byte, 0, len(raw)*3/4+2)
	var acc uint32
	var bits uint
	for i := 0; i < len(raw); i++ {
		v, ok := base64Value(raw[i], url)
		if !ok {
			return ""
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
		}
	}
	return string(out)
}

func base64Value(c byte, url bool) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+' && !url, c == '-' && url:
		return 62, true
	case c == '/' && !url, c == '_' && url:
		return 63, true
	}
	return 0, false
}

// Check says whether value, the value of the key named key ("" for none,
// as in a list), is a credential: by its shape whatever the key, or as any
// non-empty text under a key named like a credential that does not only
// refer to one kept elsewhere.
func Check(value, key string) (Finding, bool) {
	if f, ok := Find(value); ok {
		return f, true
	}
	if key != "" && IsName(key) && !placeholder(value) && !IsReference(value) &&
		!(authMethods[strings.ToLower(strings.TrimSpace(value))] && named(key, []string{"auth", "authorization", "authtype", "authmethod"})) {
		return Finding{What: "a field named " + key + " holds a literal string", Parts: []string{value}, Named: true}, true
	}
	return Finding{}, false
}

// Mask stands for a hidden credential in anything fleetc prints.
const Mask = "***"

// Scrub returns s with every credential Find recognises replaced by Mask:
// the last line of defence for text that is about to be shown (an error
// message quoting a value, a path whose key is a token), whatever produced
// it.
func Scrub(s string) string {
	for {
		f, ok := Find(s)
		if !ok {
			return s
		}
		hidden := s
		for _, p := range f.Parts {
			hidden = strings.ReplaceAll(hidden, p, Mask)
		}
		if hidden == s {
			// Found, but not where it can be cut out: hide it all.
			return Mask
		}
		s = hidden
	}
}
