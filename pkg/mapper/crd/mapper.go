package crd

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/apis/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/clientset/versioned"
	"github.com/kubectl-ack/kubectl-ack/pkg/generated/informers/externalversions"
	listers "github.com/kubectl-ack/kubectl-ack/pkg/generated/listers/ramauthenticator/v1alpha1"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Mapper is the CRD backend: it maps with RAMIdentityMapping objects, watched through the
// generated shared informer.
// Rules are rebuilt from the lister whenever the informer reports a change, so every request sees
// the mappings as the informer last saw them. It also writes status.canonicalARN and
// status.userID (the principal last mapped by the object, written at most about every
// statusDelay) through the status subresource; the status is never used for matching.
type Mapper struct {
	client   versioned.Interface
	factory  externalversions.SharedInformerFactory
	informer cache.SharedIndexInformer
	lister   listers.RAMIdentityMappingLister
	queue    workqueue.TypedRateLimitingInterface[string]
	synced   atomic.Bool
	gen      atomic.Uint64 // bumped on every informer event

	usersMu  sync.Mutex
	lastUser map[string]string // mapping name → principal last authenticated through it

	mu      sync.Mutex // serialises rebuilds
	built   atomic.Pointer[builtRules]
	badSeen map[string]bool // errors already logged, so each bad object is logged once

	observe mapper.Observer
	logger  atomic.Pointer[klog.Logger] // Run's contextual logger
}

// builtRules are the rules converted at informer generation gen.
type builtRules struct {
	gen   uint64
	rules []mapper.Rule
}

// New builds the informer; call Run to start it. observe, if not nil, is told the rule of every
// object added or changed.
func New(client versioned.Interface, observe mapper.Observer) (*Mapper, error) {
	f := externalversions.NewSharedInformerFactory(client, 0)
	inf := f.Ramauthenticator().V1alpha1().RAMIdentityMappings()
	m := &Mapper{
		client:   client,
		factory:  f,
		informer: inf.Informer(),
		lister:   inf.Lister(),
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "ramidentitymapping-status"}),
		badSeen:  map[string]bool{},
		lastUser: map[string]string{},
		observe:  observe,
	}
	logger := klog.Background()
	m.logger.Store(&logger)
	m.gen.Store(1)
	_, err := m.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.changed(obj) },
		UpdateFunc: func(_, obj any) { m.changed(obj) },
		DeleteFunc: func(obj any) { m.changed(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("watch RAMIdentityMappings: %w", err)
	}
	return m, nil
}

func (m *Mapper) changed(obj any) {
	m.gen.Add(1)
	switch o := obj.(type) {
	case *v1alpha1.RAMIdentityMapping:
		m.queue.Add(o.Name)
		if r, err := RuleFromMapping(o); err == nil && m.observe != nil {
			m.observe(mapper.MapperCRD, []mapper.Rule{r})
		}
	case cache.DeletedFinalStateUnknown:
		if rim, ok := o.Obj.(*v1alpha1.RAMIdentityMapping); ok {
			m.forget(rim.Name)
		}
	}
}

func (m *Mapper) forget(name string) {
	m.usersMu.Lock()
	delete(m.lastUser, name)
	m.usersMu.Unlock()
}

// Name implements mapper.Stage.
func (m *Mapper) Name() string { return mapper.MapperCRD }

// Run starts the informer and the status writer and blocks until ctx ends.
func (m *Mapper) Run(ctx context.Context) {
	logger := klog.FromContext(ctx)
	m.logger.Store(&logger)
	defer m.queue.ShutDown()
	m.factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), m.informer.HasSynced) {
		return
	}
	m.synced.Store(true)
	logger.Info("RAMIdentityMapping informer synced", "mappings", len(m.list()))
	go func() {
		for m.processNext(ctx) {
		}
	}()
	<-ctx.Done()
	m.factory.Shutdown()
}

// HasSynced reports whether the informer has listed all mappings once.
func (m *Mapper) HasSynced() bool { return m.synced.Load() }

func (m *Mapper) list() []*v1alpha1.RAMIdentityMapping {
	l, _ := m.lister.List(labels.Everything())
	return l
}

// currentRules returns the rules of the current informer state, rebuilding them after changes.
func (m *Mapper) currentRules() []mapper.Rule {
	g := m.gen.Load()
	if b := m.built.Load(); b != nil && b.gen == g {
		return b.rules
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	g = m.gen.Load()
	if b := m.built.Load(); b != nil && b.gen == g {
		return b.rules
	}
	rules, errs := RulesFromMappings(m.list())
	seen := map[string]bool{}
	for _, err := range errs {
		msg := err.Error()
		seen[msg] = true
		if !m.badSeen[msg] {
			m.logger.Load().Error(err, "ignoring invalid RAMIdentityMapping")
		}
	}
	m.badSeen = seen
	m.built.Store(&builtRules{gen: g, rules: rules})
	return rules
}

// Map implements mapper.Stage.
func (m *Mapper) Map(id token.Identity) (*mapper.Result, bool, error) {
	if !m.HasSynced() {
		return nil, false, fmt.Errorf("RAMIdentityMappings are not loaded yet")
	}
	res, ok, err := mapper.Match(m.currentRules(), id)
	if ok && err == nil {
		m.noteUser(strings.TrimPrefix(res.Rule.Source, mapper.SourceCRDPrefix), id.UserID)
	}
	return res, ok, err
}

// statusDelay coalesces status.userID writes: a glob mapping used by many identities is written
// at most about once per delay, not once per request.
const statusDelay = 5 * time.Second

// noteUser records the principal that last authenticated through a mapping and schedules a
// status write when it differs from the object's status.
func (m *Mapper) noteUser(name, userID string) {
	obj, err := m.lister.Get(name)
	if err != nil || obj.Status.UserID == userID {
		return
	}
	m.usersMu.Lock()
	changed := m.lastUser[name] != userID
	m.lastUser[name] = userID
	m.usersMu.Unlock()
	if changed {
		m.queue.AddAfter(name, statusDelay)
	}
}

// processNext writes the status of one queued mapping.
func (m *Mapper) processNext(ctx context.Context) bool {
	name, quit := m.queue.Get()
	if quit {
		return false
	}
	defer m.queue.Done(name)
	if err := m.syncStatus(ctx, name); err != nil {
		if m.queue.NumRequeues(name) < 10 {
			m.queue.AddRateLimited(name)
		}
		m.logger.Load().Error(err, "write RAMIdentityMapping status", "name", name)
		return true
	}
	m.queue.Forget(name)
	return true
}

func (m *Mapper) syncStatus(ctx context.Context, name string) error {
	obj, err := m.lister.Get(name)
	if apierrors.IsNotFound(err) {
		m.forget(name)
		return nil
	}
	if err != nil {
		return err
	}
	want := arn.CanonicalKey(obj.Spec.ARN)
	m.usersMu.Lock()
	userID, seen := m.lastUser[name]
	m.usersMu.Unlock()
	if !seen {
		userID = obj.Status.UserID
	}
	if obj.Status.CanonicalARN == want && obj.Status.UserID == userID {
		return nil
	}
	cp := obj.DeepCopy()
	cp.Status.CanonicalARN = want
	cp.Status.UserID = userID
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = m.client.RamauthenticatorV1alpha1().RAMIdentityMappings().UpdateStatus(ctx, cp, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
