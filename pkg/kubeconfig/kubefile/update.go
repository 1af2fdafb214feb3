package kubefile

import (
	"errors"
	"fmt"
	"time"
)

// Context statuses reported by Update.
const (
	StatusAdded     = "added"
	StatusUpdated   = "updated"
	StatusUnchanged = "unchanged"
	StatusRemoved   = "removed"
)

// NamedExtension is an item of a kubeconfig "extensions" list. kubectl keeps extensions it does
// not know when it rewrites a file (`kubectl config set-context`, `rename-context`, ...), so
// they can mark entries a tool wrote.
type NamedExtension struct {
	Name      string `json:"name"`
	Extension any    `json:"extension"`
}

// Change is a set of updates written to the kubeconfig files at once: one backup and one atomic
// replacement per changed file, whatever the number of entries.
type Change struct {
	// Set adds or replaces entries, as Merge does for one.
	Set []Entries
	// Remove deletes contexts by name. The user and cluster entries a removed context used go
	// too when no remaining context uses them; a current-context naming it is cleared.
	Remove []string
}

// ChangeResult says what Update changed.
type ChangeResult struct {
	Result
	// Contexts maps each context of the change to StatusAdded, StatusUpdated, StatusUnchanged
	// or StatusRemoved.
	Contexts map[string]string
}

// Update applies ch to the kubeconfig files chosen by opts with Merge's rules, then writes every
// changed file once (backup first, atomic replacement, 0600). Files that end up unchanged are not
// written and not backed up.
func Update(opts PathOptions, ch Change, now time.Time) (*ChangeResult, error) {
	for _, e := range ch.Set {
		if err := e.validate(); err != nil {
			return nil, err
		}
	}
	s, err := openSession(opts)
	if err != nil {
		return nil, err
	}
	res := &ChangeResult{Contexts: map[string]string{}}
	for _, e := range ch.Set {
		st, err := s.apply(e)
		if err != nil {
			return nil, err
		}
		res.Contexts[e.ContextName] = st
	}
	for _, name := range ch.Remove {
		if s.remove(name) {
			res.Contexts[name] = StatusRemoved
		}
	}
	written, err := s.write(now)
	if err != nil {
		return nil, err
	}
	res.Result = *written
	return res, nil
}

// remove deletes a context and the user and cluster entries only it used.
func (s *session) remove(name string) bool {
	l := s.find(SectionContexts, name)
	if l == nil {
		return false
	}
	body, _ := l.doc.Get(SectionContexts, name)
	l.doc.Remove(SectionContexts, name)
	l.touched = true
	if l.doc.CurrentContext() == name {
		delete(l.doc.m, "current-context")
	}
	for _, ref := range []struct{ section, key string }{{SectionUsers, "user"}, {SectionClusters, "cluster"}} {
		entry, _ := body[ref.key].(string)
		if entry == "" || s.referenced(ref.key, entry) {
			continue
		}
		if owner := s.find(ref.section, entry); owner != nil {
			owner.doc.Remove(ref.section, entry)
			owner.touched = true
		}
	}
	return true
}

// referenced reports whether any context still names the user or cluster entry.
func (s *session) referenced(key, entry string) bool {
	for _, l := range s.docs {
		for _, n := range l.doc.Names(SectionContexts) {
			if body, _ := l.doc.Get(SectionContexts, n); body[key] == entry {
				return true
			}
		}
	}
	return false
}

// ContextInfo is a context as kubectl sees it across the kubeconfig files.
type ContextInfo struct {
	Name    string
	Cluster string
	User    string
	// Extensions maps extension names to their values.
	Extensions map[string]any
	// File defines the context.
	File string
}

// Contexts returns the contexts of the files chosen by opts; a name defined in several files
// is reported once, from the file kubectl uses (the first).
func Contexts(opts PathOptions) ([]ContextInfo, error) {
	s, err := openSession(opts)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []ContextInfo
	for _, f := range s.files {
		doc := s.docs[f].doc
		for _, n := range doc.Names(SectionContexts) {
			if seen[n] {
				continue
			}
			seen[n] = true
			body, _ := doc.Get(SectionContexts, n)
			ci := ContextInfo{Name: n, File: f, Extensions: map[string]any{}}
			ci.Cluster, _ = body["cluster"].(string)
			ci.User, _ = body["user"].(string)
			exts, _ := body["extensions"].([]any)
			for _, it := range exts {
				if m, ok := it.(map[string]any); ok {
					if name, ok := m["name"].(string); ok {
						ci.Extensions[name] = m["extension"]
					}
				}
			}
			out = append(out, ci)
		}
	}
	return out, nil
}

// mergeExtensions sets the named extensions in an existing "extensions" list, keeping the
// others in place.
func mergeExtensions(existing any, set []NamedExtension) ([]any, error) {
	list, _ := existing.([]any)
	out := append([]any(nil), list...)
	for _, ext := range set {
		m, err := toMap(ext)
		if err != nil {
			return nil, err
		}
		replaced := false
		for i, it := range out {
			if item, ok := it.(map[string]any); ok && item["name"] == ext.Name {
				out[i], replaced = m, true
				break
			}
		}
		if !replaced {
			out = append(out, m)
		}
	}
	return out, nil
}

// RenderAll returns a standalone kubeconfig holding the entries of every e, with current as the
// current context ("" leaves it unset).
func RenderAll(entries []Entries, current string) ([]byte, error) {
	if len(entries) == 0 {
		return nil, errors.New("no kubeconfig entries to render")
	}
	doc := NewDocument()
	for _, e := range entries {
		if err := e.validate(); err != nil {
			return nil, err
		}
		for _, f := range []func(*Document) error{e.applyCluster, e.applyUser, e.applyContext} {
			if err := f(doc); err != nil {
				return nil, fmt.Errorf("build kubeconfig: %w", err)
			}
		}
	}
	if current != "" {
		doc.SetCurrentContext(current)
	}
	doc.m["preferences"] = map[string]any{}
	return doc.Marshal()
}
