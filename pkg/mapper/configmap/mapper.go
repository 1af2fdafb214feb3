package configmap

import (
	"context"
	"errors"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// Mapper is the ACKConfigMap backend. It watches one ConfigMap (list and watch with a
// metadata.name field selector, which the official add-on's RBAC allows) and replaces its rules
// on every change. An edit that does not parse or validate keeps the last good rules and is
// logged; a deleted ConfigMap means no mappings.
type Mapper struct {
	*mapper.RuleSet
	client          kubernetes.Interface
	namespace, name string

	mu     sync.Mutex // serialises loads
	loaded bool       // an object was seen, so the post-sync "absent" default must not apply
	seen   string     // resourceVersion of the last object handled, good or bad
}

// Seen returns the resourceVersion of the last version of the ConfigMap the backend handled
// (applied or refused), "" before the first.
func (m *Mapper) Seen() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.seen
}

// New returns the backend for namespace/name (Namespace and Name in the official layout).
// observe, if not nil, is told every new set of rules.
func New(client kubernetes.Interface, namespace, name string, observe mapper.Observer) *Mapper {
	return &Mapper{RuleSet: mapper.NewRuleSet(mapper.MapperACKConfigMap, observe), client: client, namespace: namespace, name: name}
}

// Run watches the ConfigMap until ctx ends.
func (m *Mapper) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithValues("configMap", m.namespace+"/"+m.name)
	f := informers.NewSharedInformerFactoryWithOptions(m.client, 0, informers.WithNamespace(m.namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", m.name).String()
		}))
	inf := f.Core().V1().ConfigMaps().Informer()
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.load(logger, obj) },
		UpdateFunc: func(_, obj any) { m.load(logger, obj) },
		DeleteFunc: func(any) { m.absent(logger, "deleted") },
	})
	if err != nil {
		logger.Error(err, "watch the mapping ConfigMap")
		return
	}
	f.Start(ctx.Done())
	defer f.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), reg.HasSynced) {
		return
	}
	m.mu.Lock()
	seen := m.loaded
	m.mu.Unlock()
	if !seen {
		m.absent(logger, "not found")
	}
	<-ctx.Done()
}

func (m *Mapper) absent(logger klog.Logger, why string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	logger.Info("mapping ConfigMap "+why+": no ACKConfigMap mappings until it exists", "namespace", m.namespace, "name", m.name)
	m.Set(nil)
}

func (m *Mapper) load(logger klog.Logger, obj any) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loaded, m.seen = true, cm.ResourceVersion
	c, warnings, err := Parse(cm.Data)
	for _, w := range warnings {
		logger.Info("warning: " + w)
	}
	if errors.Is(err, ErrNoMappings) {
		logger.Info("warning: mapping ConfigMap has no mapRoles, mapUsers or mapAccounts")
		err = nil
	}
	var rules []mapper.Rule
	if err == nil {
		rules, err = c.Rules()
	}
	if err != nil && !m.HasSynced() {
		// Nothing good was ever loaded: fail closed with no mappings.
		logger.Error(err, "mapping ConfigMap is invalid: no ACKConfigMap mappings until it is fixed", "resourceVersion", cm.ResourceVersion)
		m.Set(nil)
		return
	}
	if err != nil {
		logger.Error(err, "mapping ConfigMap change is invalid: keeping the last good mappings", "resourceVersion", cm.ResourceVersion, "rules", len(m.Rules()))
		return
	}
	logger.Info("loaded mapping ConfigMap", "resourceVersion", cm.ResourceVersion, "rules", len(rules))
	m.Set(rules)
}
