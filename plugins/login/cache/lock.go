package cache

import (
	"context"
	"errors"
	"time"
)

// defaultLockTimeout bounds the wait for another process's refresh: longer
// than a CS call with retries, shorter than kubectl users' patience.
const defaultLockTimeout = 60 * time.Second

// errLockTimeout is returned when the lock stayed taken for LockTimeout.
var errLockTimeout = errors.New("timed out waiting for another kubectl-ack_login process to refresh the credential")

func (s Store) lockTimeout() time.Duration {
	if s.LockTimeout > 0 {
		return s.LockTimeout
	}
	return defaultLockTimeout
}

// pollLock calls try until it reports success, fails, ctx ends or timeout
// passes, waiting a little longer between attempts each time.
func pollLock(ctx context.Context, timeout time.Duration, try func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	wait := 5 * time.Millisecond
	for {
		ok, err := try()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return errLockTimeout
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 100*time.Millisecond)
	}
}
