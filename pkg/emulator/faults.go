package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Fault modes.
const (
	// FaultNone clears a fault.
	FaultNone = ""
	// FaultDown closes the connection without an answer (or answers 503 when that is impossible).
	FaultDown = "down"
	// Fault5xx answers HTTP 500 InternalError.
	Fault5xx = "5xx"
	// FaultThrottle answers Throttling.User: HTTP 400 for STS/RAM (as the POP gateway does) and
	// HTTP 429 for CS; the SDK classifies both as a ThrottlingError by the code.
	FaultThrottle = "throttle"
	// FaultSlow delays the request by Delay (or until the client gives up) and then serves it.
	FaultSlow = "slow"
)

// Fault is an injected failure for one service.
type Fault struct {
	// Mode is one of the Fault* constants.
	Mode string
	// Delay is the delay of FaultSlow (default 2s).
	Delay time.Duration
	// Count is how many requests the fault affects; 0 means until cleared.
	Count int
}

type faultJSON struct {
	Mode  string `json:"mode"`
	Delay string `json:"delay,omitempty"`
	Count int    `json:"count,omitempty"`
}

// MarshalJSON encodes Delay as a Go duration string ("1.5s").
func (f Fault) MarshalJSON() ([]byte, error) {
	j := faultJSON{Mode: f.Mode, Count: f.Count}
	if f.Delay > 0 {
		j.Delay = f.Delay.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON accepts {"mode":"slow","delay":"1.5s","count":2}.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var j faultJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	var d time.Duration
	if j.Delay != "" {
		var err error
		if d, err = time.ParseDuration(j.Delay); err != nil {
			return fmt.Errorf("fault delay: %w", err)
		}
	}
	*f = Fault{Mode: j.Mode, Delay: d, Count: j.Count}
	return f.validate()
}

func (f Fault) validate() error {
	switch f.Mode {
	case FaultNone, FaultDown, Fault5xx, FaultThrottle, FaultSlow:
	default:
		return fmt.Errorf("unknown fault mode %q (want \"\", down, 5xx, throttle, slow)", f.Mode)
	}
	if f.Count < 0 || f.Delay < 0 {
		return fmt.Errorf("fault count and delay must not be negative")
	}
	return nil
}

func validService(svc string) bool {
	return svc == ServiceSTS || svc == ServiceRAM || svc == ServiceCS
}

// SetFault injects (or with Mode "" clears) a fault for a service: "sts", "ram" or "cs".
// Unknown services or modes are ignored; use the admin API to get errors for them.
func (s *Server) SetFault(service string, f Fault) {
	if !validService(service) || f.validate() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Mode == FaultNone {
		delete(s.faults, service)
		return
	}
	s.faults[service] = f
}

// takeFault returns the active fault of a service and consumes one use of a counted fault.
func (s *Server) takeFault(service string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults[service]
	if !ok {
		return Fault{}, false
	}
	if f.Count > 0 {
		if f.Count == 1 {
			delete(s.faults, service)
		} else {
			s.faults[service] = Fault{Mode: f.Mode, Delay: f.Delay, Count: f.Count - 1}
		}
	}
	return f, true
}

// applyFault reports whether the request should be served normally.
func (s *Server) applyFault(w http.ResponseWriter, req *request) bool {
	f, ok := s.takeFault(req.service)
	if !ok {
		return true
	}
	switch f.Mode {
	case FaultDown:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return false
		}
		s.writeError(w, req.r, req.style, req.reqID, newErr(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."))
		return false
	case Fault5xx:
		s.writeError(w, req.r, req.style, req.reqID, newErr(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure."))
		return false
	case FaultThrottle:
		status := 400
		if req.service == ServiceCS {
			status = 429
		}
		s.writeError(w, req.r, req.style, req.reqID, newErr(status, "Throttling.User", "Request was denied due to user flow control."))
		return false
	case FaultSlow:
		d := f.Delay
		if d == 0 {
			d = 2 * time.Second
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-req.r.Context().Done():
			return false
		}
	}
	return true
}

func faultServiceFromPath(p string) string {
	return strings.TrimPrefix(p, "/_emulator/faults/")
}
