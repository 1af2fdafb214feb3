package rrsa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
	"github.com/kubectl-ack/kubectl-ack/pkg/rrsa"
)

// ErrConcurrentModification is pkg/rrsa's: someone else changed the trust policy meanwhile.
var ErrConcurrentModification = rrsa.ErrConcurrentModification

// trustStep is one trust-policy change as a command runs it: pkg/rrsa plans and applies it, the
// command shows the plan, asks, and says what happened.
type trustStep struct {
	change rrsa.TrustChange
	dryRun bool
	yes    bool
	// question is the confirmation asked before writing (without the "?").
	question string
}

// runTrustStep plans the change, shows it (the diff on stderr; on a dry run also the resulting
// policy on stdout), confirms and applies it. It returns the plan (nil when nothing was planned)
// and what was done (nil on a dry run or when nothing changes).
func (o *rootOptions) runTrustStep(ctx context.Context, s *session, st trustStep) (*rrsa.Plan, *rrsa.Result, error) {
	plan, err := rrsa.TrustEditor{Roles: s.clients.RAM}.Plan(ctx, st.change)
	if err != nil {
		return nil, nil, err
	}
	if !plan.Changed {
		return plan, nil, nil
	}
	if err := o.showPlan(plan, st.dryRun); err != nil {
		return nil, nil, err
	}
	if st.dryRun {
		return plan, nil, nil
	}
	if err := o.confirm(ctx, st.yes, st.question+"?"); err != nil {
		return nil, nil, err
	}
	res, err := rrsa.TrustEditor{Roles: s.clients.RAM}.Apply(ctx, plan)
	return plan, res, err
}

// showPlan prints what a plan will do: a diff for an update, the whole policy for a new role,
// the policies to detach for a deletion.
func (o *rootOptions) showPlan(plan *rrsa.Plan, dryRun bool) error {
	prefix := ""
	if dryRun {
		prefix = "Dry run: "
	}
	switch {
	case plan.DeleteRole:
		fmt.Fprintf(o.streams.ErrOut, "%sRAM role %q would be left without any trust statement, so it will be deleted%s.\n",
			prefix, plan.Role, detachText(plan.Detach))
		return nil
	case !plan.Exists:
		pretty, err := plan.New.Pretty()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "%sRAM role %q will be created with this trust policy:\n%s\n", prefix, plan.Role, pretty)
	default:
		diff, err := plan.Diff()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "%sThe trust policy of RAM role %q will change as follows:\n%s", prefix, plan.Role, diff)
	}
	if dryRun {
		pretty, err := plan.New.Pretty()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.streams.Out, "%s\n", pretty)
	}
	return nil
}

// detachText is " after detaching <policies>", or "" when there are none.
func detachText(ps []cloud.Policy) string {
	if len(ps) == 0 {
		return ""
	}
	return " after detaching " + policyList(ps)
}

func policyList(ps []cloud.Policy) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = fmt.Sprintf("%s policy %q", strings.ToLower(p.Type), p.Name)
	}
	return strings.Join(names, ", ")
}

// explainTrustError turns pkg/rrsa's errors into messages that say what to do.
func explainTrustError(err error, role string, mayCreate bool) error {
	var last *rrsa.LastStatementError
	switch {
	case errors.As(err, &last):
		return fmt.Errorf("RAM role %q trusts only this service account: removing it would leave the trust policy without any statement, which RAM does not accept, "+
			"and kubectl ack-rrsa will not put another statement in its place, because that could let someone new assume the role. Nothing was changed. "+
			"Re-run with --delete-role to delete the role%s, or keep the association until another service account is associated (%w)", role, detachText(last.Attached), err)
	case errors.Is(err, rrsa.ErrRoleNotFound) && mayCreate:
		return fmt.Errorf("RAM role %q does not exist: create it first or pass --create-role-if-not-exist: %w", role, err)
	case errors.Is(err, rrsa.ErrRoleNotFound):
		return fmt.Errorf("RAM role %q does not exist: check -r/--role-name: %w", role, err)
	}
	return err
}
