package cloud

import (
	"context"

	ram "github.com/alibabacloud-go/ram-20150501/v2/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"
)

// RAM is a typed Resource Access Management client (ACS3-HMAC-SHA256 signatures).
type RAM struct {
	// CallOptions tune timeouts, retries and transport; set them before the first call.
	CallOptions
	b base
}

// NewRAM returns a RAM client for ep.RAMEndpoint(). cred is required for every RAM call.
func NewRAM(cred credentials.Credential, ep Endpoints) (*RAM, error) {
	b, err := newBase("ram", ep.RAMEndpoint(), ep, cred)
	if err != nil {
		return nil, err
	}
	return &RAM{b: b}, nil
}

// Endpoint returns the host[:port] the client talks to.
func (c *RAM) Endpoint() string { return c.b.endpoint }

// Role is a RAM role.
type Role struct {
	Name                     string
	ARN                      string
	RoleID                   string
	Description              string
	AssumeRolePolicyDocument string // the trust policy (JSON)
	MaxSessionDuration       int64  // seconds
	CreateDate               string
	UpdateDate               string
}

// Policy is a RAM policy. Document is filled by GetPolicy and CreatePolicy only.
type Policy struct {
	Name           string
	Type           string // "System" or "Custom"
	DefaultVersion string
	Document       string
	Description    string
}

// Policy types.
const (
	PolicyTypeSystem = "System"
	PolicyTypeCustom = "Custom"
)

// do runs one signed RAM call.
func (c *RAM) do(ctx context.Context, action string, read bool, fn func(cl *ram.Client) error) error {
	if err := c.b.requireCredential(action); err != nil {
		return err
	}
	return callWith(ctx, &c.b, &c.CallOptions, action, read, ram.NewClient, fn)
}

// ramFetch runs one signed RAM call that answers with a body, and returns the body.
func ramFetch[B any](ctx context.Context, c *RAM, action string, read bool, get func(cl *ram.Client) (*B, error)) (*B, error) {
	if err := c.b.requireCredential(action); err != nil {
		return nil, err
	}
	return fetch(ctx, &c.b, &c.CallOptions, action, read, ram.NewClient, get)
}

// GetRole returns the role name; a missing role is ErrNotFound.
func (c *RAM) GetRole(ctx context.Context, name string) (*Role, error) {
	r, err := ramFetch(ctx, c, "GetRole", true, func(cl *ram.Client) (*ram.GetRoleResponseBodyRole, error) {
		resp, err := cl.GetRole(&ram.GetRoleRequest{RoleName: tea.String(name)})
		if err != nil || resp.Body == nil {
			return nil, err
		}
		return resp.Body.Role, nil
	})
	if err != nil {
		return nil, err
	}
	return newRole(roleFields{name: r.RoleName, arn: r.Arn, id: r.RoleId, description: r.Description,
		document: r.AssumeRolePolicyDocument, maxSession: r.MaxSessionDuration, created: r.CreateDate, updated: r.UpdateDate}), nil
}

// roleFields are the fields of a role in GetRole, CreateRole and UpdateRole responses (three
// SDK types).
type roleFields struct {
	name, arn, id, description, document, created, updated *string
	maxSession                                             *int64
}

func newRole(f roleFields) *Role {
	return &Role{
		Name: tea.StringValue(f.name), ARN: tea.StringValue(f.arn), RoleID: tea.StringValue(f.id),
		Description: tea.StringValue(f.description), AssumeRolePolicyDocument: tea.StringValue(f.document),
		MaxSessionDuration: tea.Int64Value(f.maxSession), CreateDate: tea.StringValue(f.created),
		UpdateDate: tea.StringValue(f.updated),
	}
}

// CreateRoleInput are the parameters of CreateRole.
type CreateRoleInput struct {
	Name                     string
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int64 // seconds; 0 = service default (3600)
}

// CreateRole creates a role; an existing role is ErrAlreadyExists.
func (c *RAM) CreateRole(ctx context.Context, in CreateRoleInput) (*Role, error) {
	req := &ram.CreateRoleRequest{
		RoleName:                 tea.String(in.Name),
		AssumeRolePolicyDocument: tea.String(in.AssumeRolePolicyDocument),
	}
	if in.Description != "" {
		req.Description = tea.String(in.Description)
	}
	if in.MaxSessionDuration > 0 {
		req.MaxSessionDuration = tea.Int64(in.MaxSessionDuration)
	}
	r, err := ramFetch(ctx, c, "CreateRole", false, func(cl *ram.Client) (*ram.CreateRoleResponseBodyRole, error) {
		resp, err := cl.CreateRole(req)
		if err != nil || resp.Body == nil {
			return nil, err
		}
		return resp.Body.Role, nil
	})
	if err != nil {
		return nil, err
	}
	// CreateRole answers without an update date.
	return newRole(roleFields{name: r.RoleName, arn: r.Arn, id: r.RoleId, description: r.Description,
		document: r.AssumeRolePolicyDocument, maxSession: r.MaxSessionDuration, created: r.CreateDate}), nil
}

// UpdateRole replaces the trust policy of a role.
func (c *RAM) UpdateRole(ctx context.Context, name, newTrustPolicy string) (*Role, error) {
	r, err := ramFetch(ctx, c, "UpdateRole", false, func(cl *ram.Client) (*ram.UpdateRoleResponseBodyRole, error) {
		resp, err := cl.UpdateRole(&ram.UpdateRoleRequest{
			RoleName:                    tea.String(name),
			NewAssumeRolePolicyDocument: tea.String(newTrustPolicy),
		})
		if err != nil || resp.Body == nil {
			return nil, err
		}
		return resp.Body.Role, nil
	})
	if err != nil {
		return nil, err
	}
	return newRole(roleFields{name: r.RoleName, arn: r.Arn, id: r.RoleId, description: r.Description,
		document: r.AssumeRolePolicyDocument, maxSession: r.MaxSessionDuration, created: r.CreateDate, updated: r.UpdateDate}), nil
}

// DeleteRole deletes a role (RAM refuses while policies are attached: ErrInvalid).
func (c *RAM) DeleteRole(ctx context.Context, name string) error {
	return c.do(ctx, "DeleteRole", false, func(cl *ram.Client) error {
		_, err := cl.DeleteRole(&ram.DeleteRoleRequest{RoleName: tea.String(name)})
		return err
	})
}

// GetPolicy returns a policy with the document of its default version.
func (c *RAM) GetPolicy(ctx context.Context, name, policyType string) (*Policy, error) {
	body, err := ramFetch(ctx, c, "GetPolicy", true, func(cl *ram.Client) (*ram.GetPolicyResponseBody, error) {
		resp, err := cl.GetPolicy(&ram.GetPolicyRequest{PolicyName: tea.String(name), PolicyType: tea.String(policyType)})
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	})
	if err != nil {
		return nil, err
	}
	if body.Policy == nil {
		return nil, errEmpty("ram", "GetPolicy")
	}
	p := body.Policy
	out := &Policy{
		Name: tea.StringValue(p.PolicyName), Type: tea.StringValue(p.PolicyType),
		DefaultVersion: tea.StringValue(p.DefaultVersion), Description: tea.StringValue(p.Description),
		Document: tea.StringValue(p.PolicyDocument),
	}
	if v := body.DefaultPolicyVersion; v != nil && tea.StringValue(v.PolicyDocument) != "" {
		out.Document = tea.StringValue(v.PolicyDocument)
	}
	return out, nil
}

// CreatePolicy creates a custom policy; an existing one is ErrAlreadyExists.
func (c *RAM) CreatePolicy(ctx context.Context, name, document, description string) (*Policy, error) {
	req := &ram.CreatePolicyRequest{PolicyName: tea.String(name), PolicyDocument: tea.String(document)}
	if description != "" {
		req.Description = tea.String(description)
	}
	var p *ram.CreatePolicyResponseBodyPolicy
	err := c.do(ctx, "CreatePolicy", false, func(cl *ram.Client) error {
		resp, err := cl.CreatePolicy(req)
		if err == nil && resp.Body != nil {
			p = resp.Body.Policy
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &Policy{Name: name, Type: PolicyTypeCustom, Document: document, Description: description}
	if p != nil {
		out.Name = tea.StringValue(p.PolicyName)
		out.Type = tea.StringValue(p.PolicyType)
		out.DefaultVersion = tea.StringValue(p.DefaultVersion)
		out.Description = tea.StringValue(p.Description)
	}
	return out, nil
}

// CreatePolicyVersion adds a version to a custom policy. When the version limit is reached RAM
// deletes the oldest non-default version, so repeated updates keep working.
func (c *RAM) CreatePolicyVersion(ctx context.Context, name, document string, setAsDefault bool) error {
	return c.do(ctx, "CreatePolicyVersion", false, func(cl *ram.Client) error {
		_, err := cl.CreatePolicyVersion(&ram.CreatePolicyVersionRequest{
			PolicyName:     tea.String(name),
			PolicyDocument: tea.String(document),
			SetAsDefault:   tea.Bool(setAsDefault),
			RotateStrategy: tea.String("DeleteOldestNonDefaultVersionWhenLimitExceeded"),
		})
		return err
	})
}

// ListPoliciesForRole lists the policies attached to a role (without documents).
func (c *RAM) ListPoliciesForRole(ctx context.Context, roleName string) ([]Policy, error) {
	var out []Policy
	err := c.do(ctx, "ListPoliciesForRole", true, func(cl *ram.Client) error {
		resp, err := cl.ListPoliciesForRole(&ram.ListPoliciesForRoleRequest{RoleName: tea.String(roleName)})
		if err != nil {
			return err
		}
		out = out[:0]
		if resp.Body != nil && resp.Body.Policies != nil {
			for _, p := range resp.Body.Policies.Policy {
				if p == nil {
					continue
				}
				out = append(out, Policy{
					Name: tea.StringValue(p.PolicyName), Type: tea.StringValue(p.PolicyType),
					DefaultVersion: tea.StringValue(p.DefaultVersion), Description: tea.StringValue(p.Description),
				})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AttachPolicyToRole attaches a policy ("System" or "Custom") to a role. Attaching an attached
// policy is ErrAlreadyExists.
func (c *RAM) AttachPolicyToRole(ctx context.Context, policyType, policyName, roleName string) error {
	return c.do(ctx, "AttachPolicyToRole", false, func(cl *ram.Client) error {
		_, err := cl.AttachPolicyToRole(&ram.AttachPolicyToRoleRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), RoleName: tea.String(roleName),
		})
		return err
	})
}

// DetachPolicyFromRole detaches a policy from a role.
func (c *RAM) DetachPolicyFromRole(ctx context.Context, policyType, policyName, roleName string) error {
	return c.do(ctx, "DetachPolicyFromRole", false, func(cl *ram.Client) error {
		_, err := cl.DetachPolicyFromRole(&ram.DetachPolicyFromRoleRequest{
			PolicyType: tea.String(policyType), PolicyName: tea.String(policyName), RoleName: tea.String(roleName),
		})
		return err
	})
}
