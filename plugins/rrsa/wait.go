package rrsa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/cloud"
)

// waitOptions control how long and how often cluster tasks are polled.
type waitOptions struct {
	timeout  time.Duration
	interval time.Duration
}

func (w waitOptions) validate() error {
	if w.interval <= 0 || w.timeout <= 0 {
		return errors.New("--poll-interval and --timeout must be positive")
	}
	return nil
}

// maxRetryBackoff caps the wait between polls after transient errors.
const maxRetryBackoff = 30 * time.Second

// progress reports waiting: a spinner redrawn in place on a terminal, one line per state change
// otherwise (so logs of CI jobs stay readable).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time

	once    sync.Once
	mu      sync.Mutex
	message string
	last    string
	stop    chan struct{}
	done    chan struct{}
}

var spinnerFrames = []string{"|", "/", "-", `\`}

func newProgress(w io.Writer, tty bool) *progress {
	p := &progress{w: w, tty: tty, start: time.Now()}
	if tty {
		p.stop = make(chan struct{})
		p.done = make(chan struct{})
		go p.spin()
	}
	return p
}

func (p *progress) spin() {
	defer close(p.done)
	t := time.NewTicker(150 * time.Millisecond)
	defer t.Stop()
	for i := 0; ; i++ {
		p.mu.Lock()
		fmt.Fprintf(p.w, "\r\033[K%s %s (%s)", spinnerFrames[i%len(spinnerFrames)], p.message, time.Since(p.start).Truncate(time.Second))
		p.mu.Unlock()
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

// set updates the current message; without a terminal a changed message becomes a new line.
func (p *progress) set(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.message = msg
	if !p.tty && msg != p.last {
		fmt.Fprintf(p.w, "%s\n", msg)
		p.last = msg
	}
}

// finish stops the spinner and clears its line.
func (p *progress) finish() {
	if !p.tty {
		return
	}
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		fmt.Fprint(p.w, "\r\033[K")
	})
}

// transient reports whether err is worth retrying while waiting: the service could not be
// reached, failed or throttled. The cloud task goes on regardless of our connection.
func transient(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (errors.Is(err, cloud.ErrUnavailable) || errors.Is(err, cloud.ErrThrottled))
}

// poll calls check every interval until it reports done, fails, or the context ends. Transient
// errors are reported to retrying and retried with exponential backoff (up to maxRetryBackoff).
func poll(ctx context.Context, interval time.Duration, check func(ctx context.Context) (bool, error), retrying func(err error, next time.Duration)) error {
	wait := interval
	for {
		done, err := check(ctx)
		switch {
		case err == nil && done:
			return nil
		case err == nil:
			wait = interval
		case transient(ctx, err):
			wait = min(max(2*wait, interval), maxRetryBackoff)
			retrying(err, wait)
		default:
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// taskFailedError carries the task error and related cluster log lines.
type taskFailedError struct {
	what, taskID, state, message string
	logs                         []cloud.ClusterLog
}

func (e *taskFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "task %s ended in state %q while waiting for %s", e.taskID, e.state, e.what)
	if e.message != "" {
		fmt.Fprintf(&b, ": %s", e.message)
	}
	if len(e.logs) > 0 {
		b.WriteString("\ncluster log:")
		for _, l := range e.logs {
			if l.Level != "" && !strings.HasPrefix(l.Message, "[") {
				fmt.Fprintf(&b, "\n  %s [%s] %s", l.Created.UTC().Format(time.RFC3339), l.Level, l.Message)
			} else {
				fmt.Fprintf(&b, "\n  %s %s", l.Created.UTC().Format(time.RFC3339), l.Message)
			}
		}
	}
	return b.String()
}

// waitTask polls a CS task until it succeeds or fails, then (if clusterReady is set) the cluster
// until clusterReady accepts it. On failure the error includes the task error and the cluster log
// lines written since the task started. Transient errors while polling are retried.
func (o *rootOptions) waitTask(ctx context.Context, s *session, taskID, what string, w waitOptions, clusterReady func(*cloud.Cluster) bool) error {
	started := time.Now().Add(-time.Minute)
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	p := newProgress(o.streams.ErrOut, isTerminal(o.streams.ErrOut))
	defer p.finish()
	retrying := func(err error, next time.Duration) {
		p.set(fmt.Sprintf("Waiting for %s: %v; retrying in %s", what, err, next.Round(time.Millisecond)))
	}
	var final *cloud.Task
	err := poll(ctx, w.interval, func(ctx context.Context) (bool, error) {
		t, err := s.clients.CS.DescribeTaskInfo(ctx, taskID)
		if err != nil {
			return false, fmt.Errorf("describe task %s: %w", taskID, err)
		}
		p.set(fmt.Sprintf("Waiting for %s: task %s is %s", what, taskID, t.State))
		final = t
		return t.Done(), nil
	}, retrying)
	if err != nil {
		return o.waitError(ctx, err, s, fmt.Sprintf("%s (task %s)", what, taskID), w,
			fmt.Sprintf("task %s keeps running in the cloud", taskID))
	}
	if !final.Succeeded() {
		p.finish()
		return o.taskFailure(ctx, s, final, what, started)
	}
	if clusterReady == nil {
		return nil
	}
	err = poll(ctx, w.interval, func(ctx context.Context) (bool, error) {
		c, err := s.cluster(ctx)
		if err != nil {
			return false, err
		}
		p.set(fmt.Sprintf("Waiting for cluster %s to be running: it is %s", s.clusterID, c.State))
		return clusterReady(c), nil
	}, retrying)
	if err != nil {
		return o.waitError(ctx, err, s, fmt.Sprintf("cluster %s to be running again", s.clusterID), w,
			fmt.Sprintf("task %s has finished", taskID))
	}
	return nil
}

// waitError explains a wait that ended early: on a timeout or an interrupt the cloud task goes
// on, so say so, or users think it was undone. An interrupt keeps the cause of ctx (Ctrl-C is
// cli.ErrInterrupted: exit code 130).
func (o *rootOptions) waitError(ctx context.Context, err error, s *session, what string, w waitOptions, state string) error {
	status := "`" + o.command(s.clusterID, "status") + "`"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s waiting for %s; %s and may still finish: check with %s or raise --timeout", w.timeout, what, state, status)
	case errors.Is(err, context.Canceled):
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, err) {
			err = fmt.Errorf("%w (%w)", cause, err)
		}
		return fmt.Errorf("stopped waiting for %s: %s; check with %s: %w", what, state, status, err)
	}
	return err
}

// taskFailure builds the error of a failed task, with the cluster log lines written since it
// started (best effort: the task error alone still explains the failure).
func (o *rootOptions) taskFailure(ctx context.Context, s *session, t *cloud.Task, what string, started time.Time) error {
	fe := &taskFailedError{what: what, taskID: t.TaskID, state: t.State, message: t.Error}
	if logs, err := s.clients.CS.DescribeClusterLogs(context.WithoutCancel(ctx), s.clusterID); err == nil {
		for _, l := range logs {
			if l.Created.IsZero() || l.Created.After(started) {
				fe.logs = append(fe.logs, l)
			}
		}
	}
	return fe
}
