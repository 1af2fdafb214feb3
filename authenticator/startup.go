package authenticator

import (
	"slices"
	"strings"
	"sync"

	"k8s.io/klog/v2"

	"github.com/kubectl-ack/kubectl-ack/pkg/arn"
	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// startupLog logs, for every backend, each mapping that grants a reserved ("system:") group and
// each ARN pattern that the official add-on would read differently, when the backend first loads
// it and whenever it changes, so an administrator sees who is cluster-admin and who gains or
// loses access when moving from the official server. Each rule is logged once per content.
type startupLog struct {
	allowed []string

	mu     sync.Mutex
	logged map[string]bool
	// compared caches CompareOfficial: a glob used by many objects is compared once.
	compared map[string]compared
}

type compared struct {
	d       arn.Divergence
	differs bool
}

func newStartupLog(allowed []string) *startupLog {
	return &startupLog{allowed: allowed, logged: map[string]bool{}, compared: map[string]compared{}}
}

// observe implements mapper.Observer.
func (l *startupLog) observe(backend string, rules []mapper.Rule) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rules {
		key := backend + "\x00" + r.Source + "\x00" + r.ARN + "\x00" + r.Account + "\x00" + strings.Join(r.Groups, ",")
		if l.logged[key] {
			continue
		}
		l.logged[key] = true
		l.reserved(backend, r)
		l.divergence(backend, r)
	}
}

func (l *startupLog) reserved(backend string, r mapper.Rule) {
	for _, g := range mapper.ReservedGroups(r) {
		who := r.ARN
		if who == "" {
			who = "account " + r.Account
		}
		if slices.Contains(l.allowed, g) {
			klog.InfoS("mapping grants a reserved group", "group", g, "backend", backend, "rule", r.Source, "identity", who, "username", r.Username)
			continue
		}
		klog.InfoS("warning: mapping names a reserved group that server.allowedGroups does not allow: identities it matches are refused", "group", g, "backend", backend, "rule", r.Source, "identity", who)
	}
}

func (l *startupLog) divergence(backend string, r mapper.Rule) {
	if r.ARN == "" || !arn.IsGlob(r.ARN) {
		return
	}
	ck := backend + "\x00" + r.ARN
	c, ok := l.compared[ck]
	if !ok {
		c.d, c.differs = mapper.OfficialDivergence(r, backend)
		l.compared[ck] = c
	}
	if !c.differs {
		return
	}
	kv := []any{"pattern", r.ARN, "backend", backend, "rule", r.Source, "officialReading", c.d.Reading.String()}
	if c.d.OfficialOnly != "" {
		kv = append(kv, "onlyOfficialMatches", c.d.OfficialOnly)
	}
	if c.d.OursOnly != "" {
		kv = append(kv, "onlyThisServerMatches", c.d.OursOnly)
	}
	if c.d.Undecided {
		kv = append(kv, "undecided", true)
	}
	klog.InfoS("warning: this pattern matches different identities than on the official ack-ram-authenticator (here \"*\" and \"?\" are anchored globs)", kv...)
}

// logPrepared says what the server did with its state directory before serving.
func logPrepared(cfg *Config, res *InitResult) {
	path := cfg.Server.GenerateKubeconfig
	if res == nil {
		klog.InfoS("using the pregenerated serving certificate and webhook kubeconfig", "stateDir", cfg.Server.StateDir, "kubeconfig", path)
		return
	}
	if res.Generated {
		klog.InfoS("wrote a new serving certificate and key; kube-apiserver must be (re)started with the webhook kubeconfig to trust it",
			"cert", res.CertFile, "key", res.KeyFile, "dnsNames", res.DNSNames, "ips", res.IPs)
	} else {
		klog.InfoS("kept the existing serving certificate", "cert", res.CertFile)
	}
	klog.InfoS("wrote the webhook kubeconfig: configure kube-apiserver with --authentication-token-webhook-config-file="+path, "kubeconfig", path)
}
