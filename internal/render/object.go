package render

import (
	"encoding"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// objectNode is the node tree of the Go value v, one of internal/argocd's
// objects, as yaml.v3's encoder lays it out: struct fields in order under
// their yaml names, empty ones left out where the tag says omitempty (by
// yaml.v3's test of emptiness), maps in yaml.v3's key order, strings in
// the style yaml.v3 picks for them. With emit, it writes an object with
// none of yaml.v3's event machinery, which took 150 µs for a cluster's
// registration (a tenth of rendering a cluster). It reports false for
// what it does not know (a custom marshaller, an inline field, a field
// without a yaml name, invalid UTF-8, a kind argocd does not use), which
// encodeDirect leaves to yaml.v3. FuzzRegistration and FuzzProject hold
// the two to the same bytes.
func objectNode(v reflect.Value) (*yaml.Node, bool) {
	if !v.IsValid() {
		return nullNode(), true
	}
	if customMarshaller(v.Type()) || v.Type() == durationType {
		return nil, false // yaml.v3 writes a time.Duration as its String
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nullNode(), true
		}
		return objectNode(v.Elem())
	case reflect.String:
		return stringNode(v.String())
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v.Bool())}, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v.Int(), 10)}, true
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // yaml.v3 writes []byte as a sequence of numbers; argocd has none
		}
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := range v.Len() {
			item, ok := objectNode(v.Index(i))
			if !ok {
				return nil, false
			}
			n.Content = append(n.Content, item)
		}
		return n, true
	case reflect.Map:
		return mapNode(v)
	case reflect.Struct:
		return structNode(v)
	}
	return nil, false
}

// stringNode is the scalar of s as yaml.v3's encoder writes a Go string:
// a literal block if it has several lines, double-quoted if read plain it
// would be something other than a string (to YAML 1.2, as the node's
// string tag makes yaml.v3 see, or to YAML 1.1: a sexagesimal number or
// an old boolean), else as plain as YAML allows.
func stringNode(s string) (*yaml.Node, bool) {
	if !utf8.ValidString(s) {
		return nil, false // yaml.v3 writes it as !!binary
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	switch {
	case strings.Contains(s, "\n"):
		n.Style = yaml.LiteralStyle
	case yaml11Scalar(s):
		n.Style = yaml.DoubleQuotedStyle
	}
	return n, true
}

func nullNode() *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"} }

// structNode is a struct's mapping: its exported fields with a yaml name,
// in order, less those omitempty leaves out.
func structNode(v reflect.Value) (*yaml.Node, bool) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return nil, false // yaml.v3 encodes even an unexported embedded struct
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || opts != "" && opts != "omitempty" {
			return nil, false
		}
		fv := v.Field(i)
		if opts == "omitempty" && yamlZero(fv) {
			continue
		}
		val, ok := objectNode(fv)
		if !ok {
			return nil, false
		}
		key, _ := stringNode(name)
		n.Content = append(n.Content, key, val)
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n, true
}

// yamlZero is yaml.v3's test of an empty value for omitempty: a struct is
// empty when all its exported fields are.
func yamlZero(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if t.Field(i).IsExported() && !yamlZero(v.Field(i)) {
				return false
			}
		}
		return true
	}
	return false
}

// mapNode is a map with string keys, in the order yaml.v3 writes them.
func mapNode(v reflect.Value) (*yaml.Node, bool) {
	if v.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	order, ok := keyOrder(keys)
	if !ok {
		return nil, false
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, k := range order {
		key, ok := stringNode(k)
		if !ok {
			return nil, false
		}
		val, ok := objectNode(v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
		if !ok {
			return nil, false
		}
		n.Content = append(n.Content, key, val)
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n, true
}

// keyOrder is the order in which yaml.v3 writes a map with these keys,
// which is its own (numbers within keys compare by value, letters before
// other characters): learnt from yaml.v3 once per set of keys, since a
// fleet's maps (labels, annotations, a registration's data) repeat the
// same few sets.
func keyOrder(keys []string) ([]string, bool) {
	if len(keys) < 2 {
		return keys, true
	}
	for _, k := range keys {
		// yaml.v3 compares digits by value, and with digits outside
		// ASCII its order is not transitive: the same map comes out in
		// several orders. Such maps are left to it.
		if strings.IndexFunc(k, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsDigit(r) }) >= 0 {
			return nil, false
		}
	}
	var id strings.Builder
	sorted := append([]string(nil), keys...)
	slices.Sort(sorted)
	for _, k := range sorted {
		id.WriteString(strconv.Itoa(len(k)))
		id.WriteByte(':')
		id.WriteString(k)
	}
	if o, ok := keyOrders.load(id.String()); ok {
		return o, true
	}
	m := make(map[string]int, len(sorted))
	for i, k := range sorted {
		m[k] = i
	}
	var n yaml.Node
	if err := n.Encode(m); err != nil || n.Kind != yaml.MappingNode || len(n.Content) != 2*len(sorted) {
		return nil, false
	}
	order := make([]string, 0, len(sorted))
	for i := 1; i < len(n.Content); i += 2 {
		j, err := strconv.Atoi(n.Content[i].Value)
		if err != nil || j < 0 || j >= len(sorted) {
			return nil, false
		}
		order = append(order, sorted[j])
	}
	keyOrders.store(id.String(), order, 1)
	return order, true
}

// keyOrders holds keyOrder's orders, at most maxKeyOrders of them.
var keyOrders = remembered[string, []string]{max: maxKeyOrders}

const maxKeyOrders = 1 << 14

var (
	durationType      = reflect.TypeFor[time.Duration]()
	marshalerType     = reflect.TypeFor[yaml.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	isZeroerType      = reflect.TypeFor[yaml.IsZeroer]()
)

// customMarshaller reports whether yaml.v3 writes values of t its own way
// rather than by kind (MarshalYAML, MarshalText), or decides by IsZero
// whether omitempty leaves them out, which objectNode leaves to it.
func customMarshaller(t reflect.Type) bool {
	if c, ok := marshallers.Load(t); ok {
		return c.(bool)
	}
	c := false
	for _, i := range []reflect.Type{marshalerType, textMarshalerType, isZeroerType} {
		c = c || t.Implements(i) || t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(i)
	}
	marshallers.Store(t, c)
	return c
}

// marshallers remembers customMarshaller's answer per type.
var marshallers sync.Map
