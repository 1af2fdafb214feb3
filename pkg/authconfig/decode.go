package authconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kubectl-ack/kubectl-ack/pkg/suggest"
)

// decode parses YAML into v, walking the document and the Go type together so that every error
// names the key path and its line: unknown keys (with the nearest known key), repeated keys and
// values of the wrong type. Keys are matched case-insensitively against the json tags. Leaves
// (and types with their own UnmarshalJSON) are decoded with encoding/json, so the file means
// what the JSON tags say.
func decode(b []byte, v any) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("not valid YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil
	}
	return walk(doc.Content[0], reflect.ValueOf(v).Elem(), "")
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

func walk(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if reflect.PointerTo(v.Type()).Implements(jsonUnmarshaler) {
		return decodeLeaf(n, v, path)
	}
	switch v.Kind() {
	case reflect.Struct:
		return walkStruct(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fmt.Errorf("line %d: %s: want a list, got %s", n.Line, display(path), describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, e := range n.Content {
			if err := walk(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return decodeLeaf(n, v, path)
}

func walkStruct(n *yaml.Node, v reflect.Value, path string) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: %s: want a mapping of keys, got %s", n.Line, display(path), describe(n))
	}
	fields := fieldsOf(v.Type())
	seen := map[string]int{}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := strings.ToLower(k.Value)
		full := join(path, k.Value)
		if line, dup := seen[key]; dup {
			errs = append(errs, fmt.Errorf("line %d: key %q repeats the one on line %d", k.Line, full, line))
			continue
		}
		seen[key] = k.Line
		f, ok := fields[key]
		if !ok {
			errs = append(errs, unknownKey(k, path, fields))
			continue
		}
		if err := walk(val, v.FieldByIndex(f.index), join(path, f.name)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// decodeLeaf decodes one value through encoding/json. Bare numbers are accepted where a string
// is wanted (account ids and cluster ids are numbers to YAML unless quoted).
func decodeLeaf(n *yaml.Node, v reflect.Value, path string) error {
	var x any
	if err := n.Decode(&x); err != nil {
		return fmt.Errorf("line %d: %s: %w", n.Line, display(path), err)
	}
	if n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || n.Tag == "!!float") && v.Kind() != reflect.Int && v.Kind() != reflect.Float64 {
		x = n.Value
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Errorf("line %d: %s: %w", n.Line, display(path), err)
	}
	if err := json.Unmarshal(b, v.Addr().Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("line %d: %s: want %s, got %s", n.Line, display(path), kindName(v.Type()), describe(n))
		}
		return fmt.Errorf("line %d: %s: %v", n.Line, display(path), strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// field is a key of a struct: its json name and where it is (through inlined structs).
type field struct {
	name  string
	index []int
}

// fieldsOf maps lower-cased json names to fields, descending into embedded (inlined) structs.
func fieldsOf(t reflect.Type) map[string]field {
	out := map[string]field{}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			for k, f := range fieldsOf(sf.Type) {
				out[k] = field{name: f.name, index: append([]int{i}, f.index...)}
			}
			continue
		}
		if !sf.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out[strings.ToLower(name)] = field{name: name, index: []int{i}}
	}
	return out
}

// unknownKey is the error for a key the struct does not have, naming the nearest known key.
func unknownKey(k *yaml.Node, path string, fields map[string]field) error {
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.name)
	}
	sort.Strings(names)
	msg := fmt.Sprintf("line %d: unknown key %q", k.Line, join(path, k.Value))
	if best := nearest(k.Value, names); best != "" {
		return fmt.Errorf("%s (did you mean %q?)", msg, join(path, best))
	}
	if path == "" {
		if _, ok := fieldsOf(reflect.TypeFor[ServerConfig]())[strings.ToLower(k.Value)]; ok {
			return fmt.Errorf("%s (did you mean %q? it belongs under server:)", msg, "server."+k.Value)
		}
	}
	return fmt.Errorf("%s (known keys: %s)", msg, strings.Join(names, ", "))
}

// nearest returns the candidate closest to s by edit distance (ignoring case), or "" when none
// is close enough to be a likely typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", len(s)/3+2
	for _, c := range candidates {
		if d := suggest.Distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func display(path string) string {
	if path == "" {
		return "the document"
	}
	return path
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	}
	return "a " + t.Kind().String()
}
