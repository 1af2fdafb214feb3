package kubefile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
)

// Cluster is the cluster entry written for an ACK cluster.
type Cluster struct {
	Server string `json:"server"`
	// CertificateAuthorityData is the PEM CA bundle (base64 in the file).
	CertificateAuthorityData []byte `json:"certificate-authority-data,omitempty"`
	TLSServerName            string `json:"tls-server-name,omitempty"`
}

// ExecEnvVar is an environment variable of an exec credential plugin.
type ExecEnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ExecConfig is the exec section of a kubeconfig user
// (client.authentication.k8s.io).
type ExecConfig struct {
	APIVersion         string       `json:"apiVersion"`
	Command            string       `json:"command"`
	Args               []string     `json:"args,omitempty"`
	Env                []ExecEnvVar `json:"env,omitempty"`
	InstallHint        string       `json:"installHint,omitempty"`
	ProvideClusterInfo bool         `json:"provideClusterInfo"`
	InteractiveMode    string       `json:"interactiveMode,omitempty"`
}

// Context is a kubeconfig context.
type Context struct {
	Cluster   string `json:"cluster"`
	User      string `json:"user"`
	Namespace string `json:"namespace,omitempty"`
	// Extensions are set by name in the context's "extensions" list; others stay.
	Extensions []NamedExtension `json:"-"`
}

// Entries are the named entries one kubeconfig update adds or replaces.
type Entries struct {
	ClusterName string
	Cluster     Cluster
	UserName    string
	Exec        ExecConfig
	ContextName string
	Context     Context
	// SetCurrentContext makes ContextName the current context.
	SetCurrentContext bool
}

func (e Entries) validate() error {
	switch {
	case e.ClusterName == "" || e.UserName == "" || e.ContextName == "":
		return errors.New("kubeconfig entries need a cluster, user and context name")
	case e.Cluster.Server == "":
		return errors.New("kubeconfig cluster entry needs a server URL")
	case e.Exec.Command == "" || e.Exec.APIVersion == "":
		return errors.New("kubeconfig user entry needs an exec command and apiVersion")
	}
	return nil
}

// apply writes the entries into doc. Cluster and context bodies keep fields
// this package does not set (proxy-url, extensions, namespace...) except the
// ones that would conflict; the user body is replaced because leftover
// static credentials next to an exec section would be used instead of it.
func (e Entries) applyCluster(doc *Document) error {
	body, _ := doc.Get(SectionClusters, e.ClusterName)
	fresh, err := toMap(e.Cluster)
	if err != nil {
		return err
	}
	merged := map[string]any{}
	maps.Copy(merged, body)
	// A CA file or skip-verify next to CA data makes client-go reject the
	// cluster entry, and a stale tls-server-name would fail verification.
	for _, k := range []string{"certificate-authority", "insecure-skip-tls-verify", "tls-server-name", "certificate-authority-data"} {
		delete(merged, k)
	}
	maps.Copy(merged, fresh)
	doc.Set(SectionClusters, e.ClusterName, merged)
	return nil
}

func (e Entries) applyUser(doc *Document) error {
	ex, err := toMap(e.Exec)
	if err != nil {
		return err
	}
	doc.Set(SectionUsers, e.UserName, map[string]any{"exec": ex})
	return nil
}

func (e Entries) applyContext(doc *Document) error {
	body, _ := doc.Get(SectionContexts, e.ContextName)
	fresh, err := toMap(e.Context)
	if err != nil {
		return err
	}
	merged := map[string]any{}
	maps.Copy(merged, body)
	maps.Copy(merged, fresh)
	if len(e.Context.Extensions) > 0 {
		exts, err := mergeExtensions(body["extensions"], e.Context.Extensions)
		if err != nil {
			return err
		}
		merged["extensions"] = exts
	}
	doc.Set(SectionContexts, e.ContextName, merged)
	return nil
}

// Render returns a standalone kubeconfig holding only the entries (for
// --stdout). The current context is always set so the output works as a
// --kubeconfig file on its own.
func Render(e Entries) ([]byte, error) {
	return RenderAll([]Entries{e}, e.ContextName)
}

// Result says what Merge changed.
type Result struct {
	// Files are the kubeconfig files written, in precedence order.
	Files []string
	// Backups are the copies taken of pre-existing files before writing.
	Backups []string
}

// Merge adds or replaces the entries in the kubeconfig files chosen by
// opts, like `kubectl config set-*` would: each entry goes to the first
// file that already defines that name, otherwise to opts.DefaultFile();
// current-context goes to the first file that sets one (so the change takes
// effect), otherwise to the default file. Every file about to change is
// first copied to <file>.bak-<UTC timestamp> (0600), then replaced
// atomically with mode 0600. Unrelated entries are never touched.
func Merge(opts PathOptions, e Entries, now time.Time) (*Result, error) {
	res, err := Update(opts, Change{Set: []Entries{e}}, now)
	if err != nil {
		return nil, err
	}
	return &res.Result, nil
}

// session holds the kubeconfig files of one update in memory until write.
type session struct {
	files []string // precedence order
	def   string   // receives new entries
	docs  map[string]*loaded
}

type loaded struct {
	doc     *Document
	exists  bool
	orig    []byte
	touched bool
}

func openSession(opts PathOptions) (*session, error) {
	files, err := opts.Precedence()
	if err != nil {
		return nil, err
	}
	def, err := opts.DefaultFile()
	if err != nil {
		return nil, err
	}
	s := &session{files: files, def: def, docs: map[string]*loaded{}}
	for _, f := range files {
		if _, err := s.load(f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *session) load(path string) (*loaded, error) {
	if l, ok := s.docs[path]; ok {
		return l, nil
	}
	doc, exists, err := LoadDocument(path)
	if err != nil {
		return nil, err
	}
	l := &loaded{doc: doc, exists: exists}
	if exists {
		if l.orig, err = doc.Marshal(); err != nil {
			return nil, err
		}
	}
	s.docs[path] = l
	return l, nil
}

// find returns the file that defines the entry, or nil.
func (s *session) find(section, name string) *loaded {
	for _, f := range s.files {
		if s.docs[f].doc.Has(section, name) {
			return s.docs[f]
		}
	}
	return nil
}

// origin returns the file that defines the entry, else the default file.
func (s *session) origin(section, name string) (*loaded, error) {
	if l := s.find(section, name); l != nil {
		return l, nil
	}
	return s.load(s.def)
}

// snapshot renders the three entries of e as they are now, to tell what an update changed.
func (s *session) snapshot(e Entries) (string, bool) {
	var b strings.Builder
	exists := false
	for _, n := range [][2]string{{SectionClusters, e.ClusterName}, {SectionUsers, e.UserName}, {SectionContexts, e.ContextName}} {
		if l := s.find(n[0], n[1]); l != nil {
			body, _ := l.doc.Get(n[0], n[1])
			j, _ := json.Marshal(body)
			b.Write(j)
			exists = exists || n[0] == SectionContexts
		}
		b.WriteByte('\n')
	}
	return b.String(), exists
}

// apply writes the entries and returns StatusAdded, StatusUpdated or StatusUnchanged for the context.
func (s *session) apply(e Entries) (string, error) {
	before, existed := s.snapshot(e)
	steps := []struct {
		section, name string
		apply         func(*Document) error
	}{
		{SectionClusters, e.ClusterName, e.applyCluster},
		{SectionUsers, e.UserName, e.applyUser},
		{SectionContexts, e.ContextName, e.applyContext},
	}
	for _, st := range steps {
		l, err := s.origin(st.section, st.name)
		if err != nil {
			return "", err
		}
		l.touched = true
		if err := st.apply(l.doc); err != nil {
			return "", fmt.Errorf("update kubeconfig %s %q: %w", st.section, st.name, err)
		}
	}
	if e.SetCurrentContext {
		if err := s.setCurrent(e.ContextName); err != nil {
			return "", err
		}
	}
	after, _ := s.snapshot(e)
	switch {
	case !existed:
		return StatusAdded, nil
	case before != after:
		return StatusUpdated, nil
	}
	return StatusUnchanged, nil
}

// setCurrent sets current-context in the first file that sets one, else the default file.
func (s *session) setCurrent(name string) error {
	target := s.def
	for _, f := range s.files {
		if s.docs[f].doc.CurrentContext() != "" {
			target = f
			break
		}
	}
	l, err := s.load(target)
	if err != nil {
		return err
	}
	l.touched = true
	l.doc.SetCurrentContext(name)
	return nil
}

// write backs up and replaces every file whose content changed.
func (s *session) write(now time.Time) (*Result, error) {
	res := &Result{}
	order := append([]string{}, s.files...)
	if _, ok := s.docs[s.def]; ok && !contains(order, s.def) {
		order = append(order, s.def)
	}
	for _, f := range order {
		l := s.docs[f]
		if !l.touched {
			continue
		}
		out, err := l.doc.Marshal()
		if err != nil {
			return nil, err
		}
		if l.exists && bytes.Equal(out, l.orig) {
			continue
		}
		if l.exists {
			b, err := Backup(f, now)
			if err != nil {
				return nil, err
			}
			res.Backups = append(res.Backups, b)
		}
		if err := WriteFileAtomic(f, out); err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Backup copies path to <path>.bak-<UTC timestamp> with mode 0600 and
// returns the copy's name; an existing name gets a numeric suffix so a
// backup is never overwritten.
func Backup(path string, now time.Time) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("back up kubeconfig %s: %w", path, err)
	}
	base := path + ".bak-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 1; ; i++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			name = fmt.Sprintf("%s.%d", base, i)
			continue
		}
		if err != nil {
			return "", fmt.Errorf("back up kubeconfig %s: %w", path, err)
		}
		_, werr := f.Write(data)
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			_ = os.Remove(name)
			return "", fmt.Errorf("back up kubeconfig %s: %w", path, err)
		}
		return name, nil
	}
}

// WriteFileAtomic writes a kubeconfig as kubectl does: atomically with mode 0600
// (pkg/atomicfile), through a symbolic link to its target (renaming over the link would
// turn a dotfiles-managed kubeconfig into a regular file and leave its real target stale),
// creating missing parent directories 0700.
func WriteFileAtomic(path string, data []byte) error {
	return atomicfile.WriteWith(path, data, atomicfile.Options{FollowSymlink: true, MkdirAll: true})
}
