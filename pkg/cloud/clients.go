// Package cloud provides typed clients for the Alibaba Cloud STS, RAM and Container Service (CS)
// APIs used by kubectl-ack, over the official SDKs.
//
// Callers never see SDK types: results are plain structs and errors are *APIError values that
// classify with errors.Is against ErrNotFound, ErrAlreadyExists, ErrThrottled, ErrAuth, ErrInvalid
// and ErrUnavailable. Every call is bounded by the context (DefaultTimeout when it has no
// deadline) and idempotent reads retry throttling and server failures with backoff.
//
// Endpoints default to the public endpoints of the region (DefaultRegionID when none is set) and
// can be overridden per service, e.g. to point every client at the ack-emulator.
package cloud

import (
	"fmt"

	"github.com/aliyun/credentials-go/credentials"
)

// Clients bundles the three service clients built from one credential and endpoint set.
type Clients struct {
	STS *STS
	RAM *RAM
	CS  *CS
}

// NewClients validates ep and builds the STS, RAM and CS clients. cred may be nil only for
// anonymous STS calls (AssumeRoleWithOIDC); other calls then fail with a clear error.
func NewClients(cred credentials.Credential, ep Endpoints) (*Clients, error) {
	if err := ep.Validate(); err != nil {
		return nil, fmt.Errorf("invalid cloud endpoints: %w", err)
	}
	stsClient, err := NewSTS(cred, ep)
	if err != nil {
		return nil, err
	}
	ramClient, err := NewRAM(cred, ep)
	if err != nil {
		return nil, err
	}
	csClient, err := NewCS(cred, ep)
	if err != nil {
		return nil, err
	}
	return &Clients{STS: stsClient, RAM: ramClient, CS: csClient}, nil
}

// SetCallOptions applies o to the three clients (e.g. a retry policy or timeout).
func (c *Clients) SetCallOptions(o CallOptions) {
	c.STS.CallOptions = o
	c.RAM.CallOptions = o
	c.CS.CallOptions = o
}
