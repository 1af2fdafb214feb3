// Package configmap is the ACKConfigMap backend of the authenticator: the kube-system/
// alibabacloud-auth ConfigMap, whose data keys mapRoles, mapUsers and mapAccounts hold YAML lists
// in the shape of EKS's aws-auth. The server watches it through an informer, so edits apply
// without a restart. Parse and Edit are shared with "ack-ram-authenticator add" and
// "kubectl ack-map import/export", so every tool reads and writes it the same way.
package configmap

import (
	"context"
	"errors"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-ack/kubectl-ack/pkg/mapper"
)

// The ConfigMap the official add-on and its "add" command use.
const (
	Namespace = "kube-system"
	Name      = "alibabacloud-auth"
)

// Data keys holding the mappings (YAML lists), spelled as the official add-on reads them.
const (
	KeyMapRoles    = "mapRoles"
	KeyMapUsers    = "mapUsers"
	KeyMapAccounts = "mapAccounts"
)

// ErrNoMappings is wrapped by Parse when data has none of the three keys.
var ErrNoMappings = errors.New("no mapRoles, mapUsers or mapAccounts in data")

// Parse reads the mappings of a ConfigMap's data. Entry keys are matched case-insensitively (so
// the aws-auth spellings rolearn and userarn work), unknown entry keys are errors, and other data
// keys are returned as warnings (a misspelt "maproles" is otherwise silently ignored).
func Parse(data map[string]string) (c mapper.StaticConfig, warnings []string, err error) {
	found := false
	var errs []error
	for _, k := range []struct {
		key string
		dst any
	}{{KeyMapRoles, &c.MapRoles}, {KeyMapUsers, &c.MapUsers}, {KeyMapAccounts, &c.MapAccounts}} {
		s, ok := data[k.key]
		if !ok {
			continue
		}
		found = true
		if err := mapper.DecodeStrict([]byte(s), k.dst); err != nil {
			errs = append(errs, fmt.Errorf("data.%s: %w", k.key, err))
		}
	}
	for key := range data {
		if key != KeyMapRoles && key != KeyMapUsers && key != KeyMapAccounts {
			warnings = append(warnings, fmt.Sprintf("data.%s is not a mapping key (mapRoles, mapUsers, mapAccounts): ignored", key))
		}
	}
	slices.Sort(warnings)
	if err := errors.Join(errs...); err != nil {
		return mapper.StaticConfig{}, warnings, err
	}
	if !found {
		return c, warnings, ErrNoMappings
	}
	return c, warnings, nil
}

// entry is one mapRoles/mapUsers item in the official add-on's spelling (as its "add" writes it).
type entry struct {
	RoleARN  string   `json:"rolearn,omitempty"`
	UserARN  string   `json:"userarn,omitempty"`
	Username string   `json:"username"`
	Groups   []string `json:"groups,omitempty"`
	// AllowAnyAccount is ours (an ARN with a wildcard account id needs it); the official add-on
	// ignores it.
	AllowAnyAccount bool `json:"allowAnyAccount,omitempty"`
}

// Encode writes c into a copy of data, replacing the three mapping keys (an empty list drops its
// key) and keeping every other key. Account mappings with only an id are written as bare ids.
func Encode(c mapper.StaticConfig, data map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range data {
		out[k] = v
	}
	roles := make([]entry, 0, len(c.MapRoles))
	for _, r := range c.MapRoles {
		roles = append(roles, entry{RoleARN: r.RoleARN, Username: r.Username, Groups: r.Groups, AllowAnyAccount: r.AllowAnyAccount})
	}
	users := make([]entry, 0, len(c.MapUsers))
	for _, u := range c.MapUsers {
		users = append(users, entry{UserARN: u.UserARN, Username: u.Username, Groups: u.Groups, AllowAnyAccount: u.AllowAnyAccount})
	}
	accounts := make([]any, 0, len(c.MapAccounts))
	for _, a := range c.MapAccounts {
		if a.Username == "" && len(a.Groups) == 0 {
			accounts = append(accounts, a.AccountID)
			continue
		}
		accounts = append(accounts, a)
	}
	for key, list := range map[string]any{KeyMapRoles: roles, KeyMapUsers: users, KeyMapAccounts: accounts} {
		delete(out, key)
		if isEmpty(list) {
			continue
		}
		b, err := yaml.Marshal(list)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", key, err)
		}
		out[key] = string(b)
	}
	return out, nil
}

func isEmpty(list any) bool {
	switch l := list.(type) {
	case []entry:
		return len(l) == 0
	case []any:
		return len(l) == 0
	}
	return false
}

// Get reads the ConfigMap and parses its mappings.
func Get(ctx context.Context, cms corev1client.ConfigMapInterface, name string) (mapper.StaticConfig, []string, error) {
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return mapper.StaticConfig{}, nil, fmt.Errorf("read ConfigMap %s: %w", name, err)
	}
	c, warnings, err := Parse(cm.Data)
	if err != nil && !errors.Is(err, ErrNoMappings) {
		return c, warnings, fmt.Errorf("ConfigMap %s/%s: %w", cm.Namespace, name, err)
	}
	return c, warnings, nil
}

// EditOptions control Edit.
type EditOptions struct {
	// Create makes a missing ConfigMap instead of failing with NotFound.
	Create bool
	// DryRun is passed to the write (metav1.DryRunAll for a server-side dry run).
	DryRun []string
}

// Edit reads the ConfigMap, lets edit change its mappings, validates the result with the
// server's rules and writes it back, retrying from a fresh read when someone else changed it in
// between. It returns the written object and whether it was created.
func Edit(ctx context.Context, cms corev1client.ConfigMapInterface, name string, o EditOptions, edit func(*mapper.StaticConfig) error) (*corev1.ConfigMap, bool, error) {
	var out *corev1.ConfigMap
	var created bool
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, name, metav1.GetOptions{})
		created = apierrors.IsNotFound(err) && o.Create
		switch {
		case created:
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}
		case err != nil:
			return fmt.Errorf("read ConfigMap %s: %w", name, err)
		}
		c, _, err := Parse(cm.Data)
		if err != nil && !errors.Is(err, ErrNoMappings) {
			return fmt.Errorf("ConfigMap %s holds invalid mappings, fix them first: %w", name, err)
		}
		if err := edit(&c); err != nil {
			return err
		}
		if _, err := c.Rules(); err != nil {
			return err
		}
		if cm.Data, err = Encode(c, cm.Data); err != nil {
			return err
		}
		if created {
			out, err = cms.Create(ctx, cm, metav1.CreateOptions{DryRun: o.DryRun})
		} else {
			out, err = cms.Update(ctx, cm, metav1.UpdateOptions{DryRun: o.DryRun})
		}
		return err
	})
	return out, created, err
}
