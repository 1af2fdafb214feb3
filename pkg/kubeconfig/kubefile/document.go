package kubefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"sigs.k8s.io/yaml"
)

// Document is one kubeconfig file held as generic YAML so that unknown
// fields survive editing.
type Document struct {
	m map[string]any
}

// NewDocument returns an empty kubeconfig (apiVersion v1, kind Config).
func NewDocument() *Document {
	return &Document{m: map[string]any{"apiVersion": "v1", "kind": "Config"}}
}

// ParseDocument parses kubeconfig YAML or JSON. Empty input is an empty
// kubeconfig, as in kubectl.
func ParseDocument(data []byte) (*Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return NewDocument(), nil
	}
	var m map[string]any
	useNumber := func(d *json.Decoder) *json.Decoder { d.UseNumber(); return d }
	if err := yaml.Unmarshal(data, &m, useNumber); err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	if m == nil {
		return NewDocument(), nil
	}
	for _, k := range []string{"clusters", "users", "contexts"} {
		if v, ok := m[k]; ok && v != nil {
			if _, ok := v.([]any); !ok {
				return nil, fmt.Errorf("parse kubeconfig: %q is not a list", k)
			}
		}
	}
	if v, ok := m["current-context"]; ok && v != nil {
		if _, ok := v.(string); !ok {
			return nil, errors.New("parse kubeconfig: \"current-context\" is not a string")
		}
	}
	return &Document{m: m}, nil
}

// LoadDocument reads path; a missing file is an empty kubeconfig and
// exists is false.
func LoadDocument(path string) (doc *Document, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return NewDocument(), false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	doc, err = ParseDocument(data)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", path, err)
	}
	return doc, true, nil
}

// Marshal renders the document as YAML.
func (d *Document) Marshal() ([]byte, error) {
	out, err := yaml.Marshal(d.m)
	if err != nil {
		return nil, fmt.Errorf("encode kubeconfig: %w", err)
	}
	return out, nil
}

// CurrentContext returns current-context.
func (d *Document) CurrentContext() string {
	s, _ := d.m["current-context"].(string)
	return s
}

// SetCurrentContext sets current-context.
func (d *Document) SetCurrentContext(name string) { d.m["current-context"] = name }

// Section names of the three named lists, and the key of the entry body in
// each list item.
const (
	SectionClusters = "clusters"
	SectionUsers    = "users"
	SectionContexts = "contexts"
)

func bodyKey(section string) string {
	switch section {
	case SectionClusters:
		return "cluster"
	case SectionUsers:
		return "user"
	default:
		return "context"
	}
}

// Names returns the entry names of a section in file order.
func (d *Document) Names(section string) []string {
	list, _ := d.m[section].([]any)
	var out []string
	for _, it := range list {
		if item, ok := it.(map[string]any); ok {
			if n, ok := item["name"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// Has reports whether the section has an entry called name.
func (d *Document) Has(section, name string) bool {
	_, ok := d.Get(section, name)
	return ok
}

// Get returns the body of the named entry (e.g. the "cluster" map of a
// clusters item).
func (d *Document) Get(section, name string) (map[string]any, bool) {
	list, _ := d.m[section].([]any)
	for _, it := range list {
		item, ok := it.(map[string]any)
		if !ok || item["name"] != name {
			continue
		}
		body, _ := item[bodyKey(section)].(map[string]any)
		if body == nil {
			body = map[string]any{}
		}
		return body, true
	}
	return nil, false
}

// Set replaces the body of the named entry, or appends a new entry. Other
// entries keep their order and content.
func (d *Document) Set(section, name string, body map[string]any) {
	list, _ := d.m[section].([]any)
	for _, it := range list {
		item, ok := it.(map[string]any)
		if ok && item["name"] == name {
			item[bodyKey(section)] = body
			return
		}
	}
	d.m[section] = append(list, map[string]any{"name": name, bodyKey(section): body})
}

// Remove deletes the named entry and reports whether it existed.
func (d *Document) Remove(section, name string) bool {
	list, _ := d.m[section].([]any)
	for i, it := range list {
		if item, ok := it.(map[string]any); ok && item["name"] == name {
			d.m[section] = append(list[:i:i], list[i+1:]...)
			return true
		}
	}
	return false
}

// toMap converts a typed value to the generic form stored in documents.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}
