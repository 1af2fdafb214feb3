package authenticator

import (
	"errors"
	"slices"
	"strings"

	"github.com/kubectl-ack/kubectl-ack/pkg/token"
)

// Scrubbed replaces what server.scrubbedAccounts hides in the logs.
const Scrubbed = "<scrubbed>"

// scrubber redacts the identities of server.scrubbedAccounts from what is logged about a
// request (ARN, ids, access key), as the official add-on's scrubbedAccounts does. The answer
// to kube-apiserver is not changed.
type scrubber struct {
	accounts []string
}

// SetScrubbedAccounts sets the account ids whose identities the request logs redact.
func (h *Handler) SetScrubbedAccounts(ids []string) {
	var s scrubber
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" {
			s.accounts = append(s.accounts, id)
		}
	}
	h.scrub = s
}

// outcome returns o as it may be logged.
func (s scrubber) outcome(o Outcome) Outcome {
	if o.Identity == nil || !slices.Contains(s.accounts, o.Identity.AccountID) {
		return o
	}
	id := *o.Identity
	secrets := []string{id.ARN, id.CanonicalARN, id.AccessKeyID, id.UserID, id.PrincipalID, id.SessionName, id.AccountID}
	redact := func(text string) string {
		for _, v := range secrets {
			if v != "" {
				text = strings.ReplaceAll(text, v, Scrubbed)
			}
		}
		return text
	}
	o.Identity = &token.Identity{AccountID: Scrubbed, ARN: Scrubbed, CanonicalARN: Scrubbed, UserID: Scrubbed,
		PrincipalID: Scrubbed, AccessKeyID: Scrubbed, SessionName: redact(id.SessionName), IdentityType: id.IdentityType}
	o.Reason = redact(o.Reason)
	if o.Err != nil {
		o.Err = errors.New(redact(o.Err.Error()))
	}
	if o.User != nil {
		u := *o.User
		u.Username = redact(u.Username)
		o.User = &u
	}
	return o
}
