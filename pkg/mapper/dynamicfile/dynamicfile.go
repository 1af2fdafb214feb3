// Package dynamicfile is the DynamicFile backend of the authenticator: a mapping file (JSON or
// YAML with mapRoles, mapUsers and mapAccounts, the official add-on's DynamicFile format) that is
// reloaded whenever it changes, without a restart. An edit that does not parse or validate keeps
// the last good mappings and is logged; a removed file means no mappings.
package dynamicfile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// DefaultPollInterval is how often the file is read even without a change notification.
// fsnotify is the main trigger, but it reports nothing on network file systems and can lose a
// watch when the directory itself is replaced, so a slow poll keeps the backend correct there.
const DefaultPollInterval = 30 * time.Second

// Parse reads a mapping file's content. Keys are matched case-insensitively (the official
// add-on's JSON spells rolearn and userarn); unknown keys are errors; an empty file holds no
// mappings.
func Parse(b []byte) (mapper.StaticConfig, error) {
	var c mapper.StaticConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	if err := mapper.DecodeStrict(b, &c); err != nil {
		return mapper.StaticConfig{}, err
	}
	return c, nil
}

// Load reads and validates the mapping file at path.
func Load(path string) ([]mapper.Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rules, err := c.Rules()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rules, nil
}

// Mapper is the DynamicFile backend.
type Mapper struct {
	*mapper.RuleSet
	path string
	// Poll is the safety-net poll interval (DefaultPollInterval when zero).
	Poll time.Duration

	mu      sync.Mutex
	applied [sha256.Size]byte // content of the rules in use, so unchanged content is not reloaded
	lastErr error
}

// New returns the backend for the file at path. observe, if not nil, is told every new set of
// rules.
func New(path string, observe mapper.Observer) *Mapper {
	return &Mapper{RuleSet: mapper.NewRuleSet(mapper.MapperDynamicFile, observe), path: path}
}

// LastError returns the error of the last load that failed, nil when the last load succeeded.
func (m *Mapper) LastError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastErr
}

// Run loads the file and reloads it on every change until ctx ends. It watches the file's
// directory rather than the file, because editors and kubelet's ConfigMap volumes replace files
// by renaming, which ends a watch on the file itself.
func (m *Mapper) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithValues("file", m.path)
	m.reload(logger)
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w, err := fsnotify.NewWatcher(); err != nil {
		logger.Error(err, "cannot watch the mapping file: changes are picked up by polling only", "poll", m.poll())
	} else {
		defer w.Close()
		if err := w.Add(filepath.Dir(m.path)); err != nil {
			logger.Error(err, "cannot watch the mapping file's directory: changes are picked up by polling only", "poll", m.poll())
		}
		events, errs = w.Events, w.Errors
	}
	t := time.NewTicker(m.poll())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-events:
			m.reload(logger)
		case err := <-errs:
			logger.Error(err, "watching the mapping file")
		case <-t.C:
			m.reload(logger)
		}
	}
}

func (m *Mapper) poll() time.Duration {
	if m.Poll > 0 {
		return m.Poll
	}
	return DefaultPollInterval
}

// reload reads the file and applies it when its content changed.
func (m *Mapper) reload(logger klog.Logger) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := os.ReadFile(m.path)
	if errors.Is(err, fs.ErrNotExist) {
		if !m.HasSynced() || m.applied != ([sha256.Size]byte{}) {
			logger.Info("mapping file does not exist: no DynamicFile mappings until it does")
			m.applied, m.lastErr = [sha256.Size]byte{}, nil
			m.Set(nil)
		}
		return
	}
	sum := sha256.Sum256(b)
	if err == nil && m.HasSynced() && sum == m.applied && m.lastErr == nil {
		return
	}
	var rules []mapper.Rule
	if err == nil {
		var c mapper.StaticConfig
		if c, err = Parse(b); err == nil {
			rules, err = c.Rules()
		}
	}
	if err != nil {
		m.fail(logger, err)
		return
	}
	m.applied, m.lastErr = sum, nil
	logger.Info("loaded mapping file", "rules", len(rules))
	m.Set(rules)
}

// fail logs a load error once per distinct error and keeps the last good rules.
func (m *Mapper) fail(logger klog.Logger, err error) {
	repeated := m.lastErr != nil && m.lastErr.Error() == err.Error()
	m.lastErr = err
	if repeated {
		return
	}
	if !m.HasSynced() {
		logger.Error(err, "mapping file is invalid: no DynamicFile mappings until it is fixed")
		m.Set(nil)
		return
	}
	logger.Error(err, "mapping file change is invalid: keeping the last good mappings", "rules", len(m.Rules()))
}
