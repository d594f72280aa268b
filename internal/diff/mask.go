package diff

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fleetc/fleetc/internal/argocd"
	"github.com/fleetc/fleetc/internal/credentials"
)

// The masks that stand for a secret value, as kubectl diff shows them.
const (
	Mask       = "***"
	MaskBefore = "*** (before)"
	MaskAfter  = "*** (after)"
)

// invalidYAML replaces, whole, content that does not parse: what in it is
// secret cannot be told.
const invalidYAML = "# not valid YAML: the content is hidden, as it may hold a secret\n"

// What can hold a credential:
//
//   - in any object whose kind names a secret (Secret, ExternalSecret,
//     SealedSecret, ...), at any depth, every value under a key that holds
//     secret content (data, stringData, binaryData, encryptedData,
//     literal); except the references of an ExternalSecret's data list
//     (secretKey, remoteRef, sourceRef), which name where a secret is, and,
//     in Argo CD's cluster and repository secrets, the keys Argo CD shows
//     anyway (name, server, project, ...). Their `config` is JSON whose
//     strings and numbers are masked and whose booleans (insecure) are not.
//   - anywhere, the value of a key named like a credential (adminPassword,
//     apiToken, clientSecret, ...), unless it is a boolean or null.
//
// A value that is only Go template references ("{{ .token }}") holds no
// credential and is shown: it is how an ExternalSecret names what it
// fetches; so is a config that is exactly argocd.ConfigTemplate, the
// template fleetc writes. Keys are shown; comments inside masked content
// are dropped.
// Objects are recognised whatever the spelling of their YAML (quotes,
// escapes, tags, flow style, anchors, merge keys, case of the keys).

// contentKeys hold secret content inside a secret object.
var contentKeys = map[string]bool{"data": true, "stringdata": true, "binarydata": true, "encrypteddata": true, "literal": true}

// referenceKeys are the entries of an ExternalSecret's data list that say
// where a secret comes from, not what it is.
var referenceKeys = map[string]bool{"secretkey": true, "remoteref": true, "sourceref": true}

// argoShownKeys are the keys of Argo CD cluster and repository secrets
// that hold no credential; Argo CD shows them in its UI.
var argoShownKeys = map[string]bool{
	strings.ToLower(argocd.DataName):             true,
	strings.ToLower(argocd.DataServer):           true,
	strings.ToLower(argocd.DataProject):          true,
	strings.ToLower(argocd.DataNamespaces):       true,
	strings.ToLower(argocd.DataClusterResources): true,
	"shard": true, "url": true, "type": true,
}

// stripSeparators drops the characters that join the words of a key.
func stripSeparators(s string) string {
	if !strings.ContainsAny(s, "-_.") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' {
			return -1
		}
		return r
	}, s)
}

// mightHoldSecret is a quick look at raw bytes that is false only if no
// masking rule can apply: the text names no secret kind and no credential
// key, and has nothing that could spell one differently (an escape, a
// binary tag, UTF-16). Most values files pass without being parsed.
func mightHoldSecret(data []byte) bool {
	if bytes.IndexByte(data, '\\') >= 0 || bytes.IndexByte(data, 0) >= 0 || bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		return true
	}
	text := stripSeparators(strings.ToLower(string(data)))
	if strings.Contains(text, "secret") || strings.Contains(text, "binary") {
		return true
	}
	for _, s := range credentials.Suffixes {
		if strings.Contains(text, s) {
			return true
		}
	}
	// A PIN's key (pin, simPin) is no suffix of the list, which would
	// match spin; a key ends in pin where a colon follows it, or, as a
	// complex key, the end of its line.
	return pinKey.MatchString(text)
}

var pinKey = regexp.MustCompile(`(?m)pin["']?[ \t]*(:|$)`)

// templateRef matches a value made only of Go template actions that read
// a field or variable and pipe it through functions: no literal text, so
// no credential.
var templateRef = regexp.MustCompile(`^\s*(\{\{-?\s*[.$][A-Za-z0-9_.]*(\s*\|\s*[A-Za-z_][A-Za-z0-9_]*)*\s*-?\}\}\s*)+$`)

// MaskPair returns before and after with every secret value replaced: by
// Mask where the value is the same on both sides or on one side only, by
// MaskBefore and MaskAfter where it changed, so that a reviewer sees that
// a secret changed, never what it is. A nil side is absent. Files without
// secret values are returned as they are; others are re-encoded as YAML.
func MaskPair(before, after []byte) (mb, ma []byte) {
	if !mightHoldSecret(before) && !mightHoldSecret(after) {
		return before, after
	}
	b := scan(before)
	a := scan(after)
	if len(b.leaves) == 0 && len(a.leaves) == 0 && !b.invalid && !a.invalid {
		return before, after
	}
	for _, l := range b.leaves {
		m := Mask
		if other, ok := a.byKey[l.key]; ok && other.value != l.value {
			m = MaskBefore
		}
		l.set(m)
	}
	for _, l := range a.leaves {
		m := Mask
		if other, ok := b.byKey[l.key]; ok && other.value != l.value {
			m = MaskAfter
		}
		l.set(m)
	}
	bothInvalid := b.invalid && a.invalid
	return b.encode(before == nil, bothInvalid, MaskBefore), a.encode(after == nil, bothInvalid, MaskAfter)
}

// Secrets returns the secret values in data, for redacting them wherever
// else they might show up.
func Secrets(data []byte) []string {
	if !mightHoldSecret(data) {
		return nil
	}
	s := scan(data)
	out := make([]string, 0, len(s.leaves))
	for _, l := range s.leaves {
		out = append(out, l.plain)
	}
	return out
}

// scanned is one side's parsed documents and the secret values in them.
type scanned struct {
	docs    []*yaml.Node
	invalid bool
	leaves  []*leaf
	byKey   map[string]*leaf
	seen    map[*yaml.Node]bool // masked already: aliases share nodes
	walked  map[walked]bool
}

type walked struct {
	n   *yaml.Node
	ctx walkCtx
}

// leaf is one secret value.
type leaf struct {
	// key says where the value is, to pair it with the other side's.
	key string
	// value identifies the value (with its type); plain is its text.
	value, plain string
	set          func(mask string)
}

func scan(data []byte) *scanned {
	s := &scanned{byKey: map[string]*leaf{}, seen: map[*yaml.Node]bool{}, walked: map[walked]bool{}}
	if data == nil {
		return s
	}
	docs, err := parse(data)
	if err != nil {
		s.invalid = true
		return s
	}
	s.docs = docs
	for i, d := range docs {
		s.walk(d, []string{strconv.Itoa(i)}, walkCtx{})
	}
	return s
}

// parse reads every YAML document in data. The parser has panicked on
// some malformed input in the past; that is invalid YAML too.
func parse(data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, errors.New("yaml parser panicked")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// encode writes the masked documents back; absent stays nil.
func (s *scanned) encode(absent, bothInvalid bool, changed string) []byte {
	if absent {
		return nil
	}
	if s.invalid {
		m := Mask
		if bothInvalid {
			m = changed
		}
		return []byte(invalidYAML + m + "\n")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range s.docs {
		if err := enc.Encode(d); err != nil {
			// Masking only replaces scalars by strings, so a tree that
			// parsed encodes; if it ever does not, show nothing of it.
			return []byte(invalidYAML + Mask + "\n")
		}
	}
	if err := enc.Close(); err != nil {
		return []byte(invalidYAML + Mask + "\n")
	}
	return buf.Bytes()
}

// walkCtx is what the walk knows of the objects around a node.
type walkCtx struct {
	inSecret bool // inside an object whose kind names a secret
	argo     bool // ... that is an Argo CD cluster or repository secret
}

// walk looks for secret values below n, at path.
func (s *scanned) walk(n *yaml.Node, path []string, ctx walkCtx) {
	// Merge keys let one node be reached from many places; each is walked
	// once per context, or nested merges would take exponential time.
	k := walked{n, ctx}
	if s.walked[k] {
		return
	}
	s.walked[k] = true
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			s.walk(c, appendPath(path, strconv.Itoa(i), n.Kind == yaml.DocumentNode), ctx)
		}
	case yaml.MappingNode:
		entries := mappingEntries(n)
		if !ctx.inSecret && isSecretObject(entries) {
			ctx = walkCtx{inSecret: true, argo: isArgoSecret(n)}
		}
		for _, e := range entries {
			p := append(path[:len(path):len(path)], e.name)
			switch {
			case ctx.inSecret && contentKeys[e.name]:
				uncomment(e.key)
				s.content(e.value, p, ctx.argo)
			case credentials.IsName(e.raw):
				uncomment(e.key)
				s.hide(e.value, p, true)
			default:
				s.walk(e.value, p, ctx)
			}
		}
	}
	// Aliases are walked where their anchor is; scalars outside secret
	// places are shown.
}

// appendPath extends path unless skip (documents add no element).
func appendPath(path []string, elem string, skip bool) []string {
	if skip {
		return path
	}
	return append(path[:len(path):len(path)], elem)
}

// content masks the value of a content key of a secret object.
func (s *scanned) content(n *yaml.Node, path []string, argo bool) {
	uncomment(n)
	switch n.Kind {
	case yaml.MappingNode:
		for _, e := range mappingEntries(n) {
			uncomment(e.key)
			p := append(path[:len(path):len(path)], e.name)
			switch {
			case argo && argoShownKeys[e.name] && e.value.Kind == yaml.ScalarNode:
			case argo && e.name == strings.ToLower(argocd.DataConfig) && e.value.Kind == yaml.ScalarNode:
				s.config(e.value, p)
			default:
				s.hide(e.value, p, false)
			}
		}
	case yaml.SequenceNode:
		// An ExternalSecret's data list: references are shown.
		for i, item := range n.Content {
			p := append(path[:len(path):len(path)], strconv.Itoa(i))
			if item.Kind != yaml.MappingNode {
				s.hide(item, p, false)
				continue
			}
			uncomment(item)
			for _, e := range mappingEntries(item) {
				uncomment(e.key)
				if !referenceKeys[e.name] {
					s.hide(e.value, append(p[:len(p):len(p)], e.name), false)
				}
			}
		}
	default:
		s.hide(n, path, false)
	}
}

// hide masks every scalar below n except template references (and, with
// keepBool, booleans and nulls), following aliases to mask their anchors
// too. Comments go, since they might quote what they describe.
func (s *scanned) hide(n *yaml.Node, path []string, keepBool bool) {
	if s.seen[n] {
		return
	}
	s.seen[n] = true
	uncomment(n)
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias != nil {
			s.hide(n.Alias, path, keepBool)
		}
	case yaml.ScalarNode:
		if templateRef.MatchString(n.Value) {
			return
		}
		if keepBool && (n.ShortTag() == "!!bool" || n.ShortTag() == "!!null") {
			return
		}
		s.add(path, n.ShortTag()+"\x00"+n.Value, plainValue(n), func(m string) {
			n.Value, n.Tag, n.Style = m, "!!str", 0
		})
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			uncomment(k)
			s.hide(n.Content[i+1], append(path[:len(path):len(path)], keyName(k)), keepBool)
		}
	default:
		for i, c := range n.Content {
			s.hide(c, append(path[:len(path):len(path)], strconv.Itoa(i)), keepBool)
		}
	}
}

// config masks an Argo CD config: JSON whose strings (unless template
// references) and numbers are masked, keeping its shape and booleans so
// that `insecure: true` shows. Anything else is masked whole.
func (s *scanned) config(n *yaml.Node, path []string) {
	// fleetc's own config template is a constant: its literal text is
	// fleetc's, not a credential. Edited in any way, it is masked whole.
	if s.seen[n] || templateRef.MatchString(n.Value) || n.Value == argocd.ConfigTemplate {
		return
	}
	toks, ok := jsonTokens(n.Value)
	if !ok {
		s.hide(n, path, false)
		return
	}
	s.seen[n] = true
	uncomment(n)
	var stack []string // the JSON path of the current token
	type frame struct {
		obj bool
		n   int // tokens seen in this container
	}
	var frames []frame
	for i, t := range toks {
		if d, ok := t.(json.Delim); ok && (d == '}' || d == ']') {
			frames = frames[:len(frames)-1]
			stack = stack[:len(frames)]
			if len(frames) > 0 {
				frames[len(frames)-1].n++
			}
			continue
		}
		var elem string
		isKey := false
		if len(frames) > 0 {
			f := &frames[len(frames)-1]
			if f.obj {
				isKey = f.n%2 == 0
			} else {
				elem = strconv.Itoa(f.n)
			}
		}
		if isKey {
			stack = append(stack[:len(frames)-1], t.(string))
			frames[len(frames)-1].n++
			continue
		}
		if elem != "" {
			stack = append(stack[:len(frames)-1], elem)
		}
		if d, ok := t.(json.Delim); ok {
			frames = append(frames, frame{obj: d == '{'})
			stack = append(stack[:len(frames)-1], "")
			continue
		}
		if len(frames) > 0 {
			frames[len(frames)-1].n++
		}
		switch v := t.(type) {
		case bool, nil:
			continue
		case string:
			if templateRef.MatchString(v) {
				continue
			}
		}
		p := append(append(path[:len(path):len(path)], "(json)"), stack[:len(frames)]...)
		i := i
		s.add(p, "json\x00"+jsonText(t), jsonPlain(t), func(m string) {
			toks[i] = m
			n.Value, n.Tag, n.Style = encodeTokens(toks), "!!str", 0
		})
	}
}

// uncomment drops n's comments: next to a secret, they might quote it.
func uncomment(n *yaml.Node) {
	if n != nil {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	}
}

func (s *scanned) add(path []string, value, plain string, set func(string)) {
	key := strings.Join(path, "\x00")
	for i := 1; s.byKey[key] != nil; i++ {
		key = strings.Join(path, "\x00") + "\x00#" + strconv.Itoa(i)
	}
	l := &leaf{key: key, value: value, plain: plain, set: set}
	s.leaves = append(s.leaves, l)
	s.byKey[key] = l
}

// entry is one key and value of a mapping.
type entry struct {
	name       string // the key, lowercased
	raw        string // the key as written: simPin is a PIN, simpin no
	key, value *yaml.Node
}

// mappingEntries lists n's entries, including those merged in with "<<",
// so that an object is read as Kubernetes reads it.
func mappingEntries(n *yaml.Node) []entry {
	var out []entry
	seen := map[*yaml.Node]bool{}
	var add func(m *yaml.Node)
	add = func(m *yaml.Node) {
		m = resolve(m)
		if m == nil || seen[m] {
			return
		}
		seen[m] = true
		switch m.Kind {
		case yaml.SequenceNode:
			for _, c := range m.Content {
				add(c)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(m.Content); i += 2 {
				k, v := m.Content[i], m.Content[i+1]
				if k.ShortTag() == "!!merge" {
					add(v)
					continue
				}
				raw := keyText(k)
				out = append(out, entry{name: strings.ToLower(raw), raw: raw, key: k, value: v})
			}
		}
	}
	add(n)
	return out
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// keyName is the lowercased text of a mapping key.
func keyName(k *yaml.Node) string { return strings.ToLower(keyText(k)) }

// keyText is a mapping key's text as written ("" for no scalar).
func keyText(k *yaml.Node) string {
	k = resolve(k)
	if k == nil || k.Kind != yaml.ScalarNode {
		return ""
	}
	return plainValue(k)
}

// plainValue is a scalar's text, with !!binary decoded.
func plainValue(n *yaml.Node) string {
	if n.ShortTag() == "!!binary" {
		if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), "")); err == nil {
			return string(b)
		}
	}
	return n.Value
}

// isSecretObject reports whether a mapping is an object whose kind names
// a secret.
func isSecretObject(entries []entry) bool {
	for _, e := range entries {
		if e.name != "kind" {
			continue
		}
		if v := resolve(e.value); v != nil && v.Kind == yaml.ScalarNode && strings.Contains(strings.ToLower(plainValue(v)), "secret") {
			return true
		}
	}
	return false
}

// isArgoSecret reports whether an object is one of Argo CD's cluster,
// repository or credential secrets: whether it carries Argo CD's
// secret-type label anywhere (an ExternalSecret has it in its template).
func isArgoSecret(n *yaml.Node) bool {
	seen := map[*yaml.Node]bool{}
	var find func(n *yaml.Node) bool
	find = func(n *yaml.Node) bool {
		n = resolve(n)
		if n == nil || seen[n] {
			return false
		}
		seen[n] = true
		for _, e := range mappingEntries(n) {
			if e.name == argocd.SecretTypeLabel {
				return true
			}
		}
		for _, c := range n.Content {
			if find(c) {
				return true
			}
		}
		return false
	}
	return find(n)
}

// jsonTokens splits a JSON value into tokens; ok is false unless s is one
// complete JSON value.
func jsonTokens(s string) (toks []any, ok bool) {
	if !json.Valid([]byte(s)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	for {
		t, err := dec.Token()
		if err == io.EOF {
			return toks, true
		}
		if err != nil {
			return nil, false
		}
		toks = append(toks, t)
	}
}

// encodeTokens writes JSON tokens back as compact JSON.
func encodeTokens(toks []any) string {
	var b strings.Builder
	type frame struct {
		obj bool
		n   int
	}
	var frames []frame
	for _, t := range toks {
		if d, ok := t.(json.Delim); ok && (d == '}' || d == ']') {
			frames = frames[:len(frames)-1]
			b.WriteString(d.String())
			if len(frames) > 0 {
				frames[len(frames)-1].n++
			}
			continue
		}
		if len(frames) > 0 {
			f := &frames[len(frames)-1]
			switch {
			case f.obj && f.n%2 == 1:
				b.WriteByte(':')
			case f.n > 0:
				b.WriteByte(',')
			}
		}
		if d, ok := t.(json.Delim); ok {
			b.WriteString(d.String())
			frames = append(frames, frame{obj: d == '{'})
			continue
		}
		b.WriteString(jsonText(t))
		if len(frames) > 0 {
			frames[len(frames)-1].n++
		}
	}
	return b.String()
}

// jsonText is a scalar token as JSON.
func jsonText(t any) string {
	switch v := t.(type) {
	case json.Number:
		return v.String()
	case nil:
		return "null"
	}
	b, _ := json.Marshal(t)
	return string(b)
}

func jsonPlain(t any) string {
	if s, ok := t.(string); ok {
		return s
	}
	return jsonText(t)
}
