package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// RoleStore is the part of RAM a trust-policy change needs. *cloud.RAM satisfies it; tests may
// wrap one to act between the calls.
type RoleStore interface {
	GetRole(ctx context.Context, name string) (*cloud.Role, error)
	CreateRole(ctx context.Context, in cloud.CreateRoleInput) (*cloud.Role, error)
	UpdateRole(ctx context.Context, name, newTrustPolicy string) (*cloud.Role, error)
	DeleteRole(ctx context.Context, name string) error
	ListPoliciesForRole(ctx context.Context, roleName string) ([]cloud.Policy, error)
	DetachPolicyFromRole(ctx context.Context, policyType, policyName, roleName string) error
}

var (
	// ErrRoleNotFound reports that the role to change does not exist.
	ErrRoleNotFound = errors.New("RAM role not found")
	// ErrConcurrentModification reports that someone else changed a role's trust policy while
	// we were changing it. RAM has no conditional update, so the best we can do is notice and stop.
	ErrConcurrentModification = errors.New("the trust policy was modified concurrently")
	// ErrLastStatement reports a change that would leave a role's trust policy without any
	// statement. RAM refuses such a policy, and replacing it with a statement of our choosing
	// could let someone new in, so the only ways forward are keeping the statement or deleting
	// the role.
	ErrLastStatement = errors.New("the change would leave the trust policy without any statement")
)

// TrustChange is one edit of a role's trust policy.
type TrustChange struct {
	// Role is the RAM role name.
	Role string
	// Edit computes the new policy from the current one and says whether anything changes.
	Edit func(*Policy) (*Policy, bool, error)
	// Verify checks the policy read back after the write still has the change.
	Verify func(*Policy) bool
	// CreateIfMissing creates a missing role with the edited policy, described by Description.
	CreateIfMissing bool
	Description     string
	// DeleteIfEmpty deletes the role (detaching its policies first) when the edit would leave
	// its trust policy without a statement; without it such a change is ErrLastStatement.
	DeleteIfEmpty bool
}

// Plan is a prepared trust change: what is there, what will be, and what will be done. It is
// shown (Diff) and confirmed before Apply.
type Plan struct {
	// Role is the role name; Exists says whether it exists (else it will be created).
	Role   string
	Exists bool
	// Changed says whether the change does anything at all.
	Changed bool
	// CurrentDoc and NewDoc are the trust policy before and after (CurrentDoc "" for a new role).
	CurrentDoc, NewDoc string
	// New is the parsed NewDoc.
	New *Policy
	// DeleteRole says the role will be deleted, its policies Detach detached first.
	DeleteRole bool
	Detach     []cloud.Policy

	change TrustChange
}

// Diff returns the unified diff from the current to the new trust policy.
func (p *Plan) Diff() (string, error) { return Diff(p.CurrentDoc, p.NewDoc) }

// LastStatementError is ErrLastStatement with what the caller needs to explain the choice.
type LastStatementError struct {
	Role string
	// Attached are the policies attached to the role (deleting it detaches them).
	Attached []cloud.Policy
}

// Error names the role.
func (e *LastStatementError) Error() string {
	return fmt.Sprintf("RAM role %q: %v", e.Role, ErrLastStatement)
}

// Is makes errors.Is(err, ErrLastStatement) true.
func (e *LastStatementError) Is(target error) bool { return target == ErrLastStatement }

// TrustEditor changes role trust policies safely: read, edit, (caller shows and confirms),
// re-read to catch concurrent writers, write, read back to verify.
type TrustEditor struct {
	Roles RoleStore
}

// Plan reads the role and computes the change without writing anything.
func (e TrustEditor) Plan(ctx context.Context, ch TrustChange) (*Plan, error) {
	plan := &Plan{Role: ch.Role, Exists: true, change: ch}
	role, err := e.Roles.GetRole(ctx, ch.Role)
	switch {
	case errors.Is(err, cloud.ErrNotFound):
		if !ch.CreateIfMissing {
			return nil, fmt.Errorf("%w: %q: %w", ErrRoleNotFound, ch.Role, err)
		}
		plan.Exists = false
	case err != nil:
		return nil, fmt.Errorf("get RAM role %q: %w", ch.Role, err)
	default:
		plan.CurrentDoc = role.AssumeRolePolicyDocument
	}
	current, err := ParsePolicy(plan.CurrentDoc)
	if err != nil {
		return nil, fmt.Errorf("trust policy of RAM role %q: %w", ch.Role, err)
	}
	updated, changed, err := ch.Edit(current)
	if err != nil {
		return nil, err
	}
	plan.New, plan.Changed = updated, changed
	if plan.NewDoc, err = updated.JSON(); err != nil {
		return nil, err
	}
	if !changed || len(updated.Statement) > 0 {
		return plan, nil
	}
	attached, err := e.Roles.ListPoliciesForRole(ctx, ch.Role)
	if err != nil {
		return nil, fmt.Errorf("list policies of RAM role %q: %w", ch.Role, err)
	}
	if !ch.DeleteIfEmpty {
		return nil, &LastStatementError{Role: ch.Role, Attached: attached}
	}
	plan.DeleteRole, plan.Detach = true, attached
	return plan, nil
}

// Result says what Apply did.
type Result struct {
	// Created, Updated and Deleted say what happened to the role.
	Created, Updated, Deleted bool
	// Detached are the policies detached before deleting the role.
	Detached []cloud.Policy
}

// Apply carries out a plan from Plan. Before writing it re-reads the role and stops (writing
// nothing) if the trust policy changed since Plan read it; after writing it reads the role back
// and reports ErrConcurrentModification if another writer got in between.
func (e TrustEditor) Apply(ctx context.Context, plan *Plan) (*Result, error) {
	if !plan.Changed {
		return &Result{}, nil
	}
	if plan.Exists {
		if err := e.recheck(ctx, plan); err != nil {
			return nil, err
		}
	}
	switch {
	case plan.DeleteRole:
		return e.deleteRole(ctx, plan)
	case plan.Exists:
		if _, err := e.Roles.UpdateRole(ctx, plan.Role, plan.NewDoc); err != nil {
			return nil, fmt.Errorf("update trust policy of RAM role %q: %w", plan.Role, err)
		}
	default:
		if _, err := e.Roles.CreateRole(ctx, cloud.CreateRoleInput{
			Name: plan.Role, AssumeRolePolicyDocument: plan.NewDoc, Description: plan.change.Description,
		}); err != nil {
			return nil, fmt.Errorf("create RAM role %q: %w", plan.Role, err)
		}
	}
	res := &Result{Created: !plan.Exists, Updated: plan.Exists}
	return res, e.readBack(ctx, plan)
}

// recheck narrows the window for lost updates: if the policy changed since Plan read it (perhaps
// while the user was reading the diff), the edit is based on stale data.
func (e TrustEditor) recheck(ctx context.Context, plan *Plan) error {
	again, err := e.Roles.GetRole(ctx, plan.Role)
	if err != nil {
		return fmt.Errorf("re-read RAM role %q before writing: %w", plan.Role, err)
	}
	if !Equal(again.AssumeRolePolicyDocument, plan.CurrentDoc) {
		return fmt.Errorf("%w: the trust policy of RAM role %q changed after it was read and before it was written (another user or tool is editing it); nothing was written: re-run the command to apply the change on top of the new policy", ErrConcurrentModification, plan.Role)
	}
	return nil
}

func (e TrustEditor) readBack(ctx context.Context, plan *Plan) error {
	back, err := e.Roles.GetRole(ctx, plan.Role)
	if err != nil {
		return fmt.Errorf("read back RAM role %q to verify the change: %w", plan.Role, err)
	}
	if Equal(back.AssumeRolePolicyDocument, plan.NewDoc) {
		return nil
	}
	backPolicy, perr := ParsePolicy(back.AssumeRolePolicyDocument)
	if perr != nil || plan.change.Verify == nil || !plan.change.Verify(backPolicy) {
		return fmt.Errorf("%w: after writing, the trust policy of RAM role %q no longer has our change (another writer replaced it); re-run the command", ErrConcurrentModification, plan.Role)
	}
	d, derr := Diff(plan.NewDoc, back.AssumeRolePolicyDocument)
	if derr != nil {
		d = derr.Error()
	}
	return fmt.Errorf("%w: after writing, the trust policy of RAM role %q differs from what was written (another writer changed it at the same time); our change is present but please review the policy and re-run the command to be sure:\n%s", ErrConcurrentModification, plan.Role, d)
}

// deleteRole detaches the role's policies and deletes it. A failure part way says what was done.
func (e TrustEditor) deleteRole(ctx context.Context, plan *Plan) (*Result, error) {
	res := &Result{}
	for _, p := range plan.Detach {
		if err := e.Roles.DetachPolicyFromRole(ctx, p.Type, p.Name, plan.Role); err != nil && !errors.Is(err, cloud.ErrNotFound) {
			return res, fmt.Errorf("detach %s policy %q from RAM role %q before deleting it (%s): %w",
				strings.ToLower(p.Type), p.Name, plan.Role, detachedText(res.Detached), err)
		}
		res.Detached = append(res.Detached, p)
	}
	if err := e.Roles.DeleteRole(ctx, plan.Role); err != nil && !errors.Is(err, cloud.ErrNotFound) {
		return res, fmt.Errorf("delete RAM role %q (%s): %w", plan.Role, detachedText(res.Detached), err)
	}
	res.Deleted = true
	return res, nil
}

func detachedText(ps []cloud.Policy) string {
	if len(ps) == 0 {
		return "no policy was detached yet"
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = strings.ToLower(p.Type) + " policy " + p.Name
	}
	return "already detached: " + strings.Join(names, ", ")
}
