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

// poll calls check every interval until it reports done, fails, or the context ends.
func poll(ctx context.Context, interval time.Duration, check func(ctx context.Context) (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := check(ctx)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
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

// waitTask polls a CS task until it succeeds or fails, then (if wantRunning) the cluster until it
// is running again. On failure the error includes the task error and the cluster log lines written
// since the task started.
func (o *rootOptions) waitTask(ctx context.Context, s *session, taskID, what string, w waitOptions, clusterReady func(*cloud.Cluster) bool) error {
	started := time.Now().Add(-time.Minute)
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	p := newProgress(o.streams.ErrOut, o.isTerminal(o.streams.ErrOut))
	defer p.finish()

	var final *cloud.Task
	err := poll(ctx, w.interval, func(ctx context.Context) (bool, error) {
		t, err := s.clients.CS.DescribeTaskInfo(ctx, taskID)
		if err != nil {
			return false, fmt.Errorf("describe task %s: %w", taskID, err)
		}
		p.set(fmt.Sprintf("Waiting for %s: task %s is %s", what, taskID, t.State))
		if t.Done() {
			final = t
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("timed out after %s waiting for %s (task %s); it may still finish: check with `kubectl ack-rrsa status` or raise --timeout", w.timeout, what, taskID)
		}
		if errors.Is(err, context.Canceled) {
			// Stopping the wait does not stop the cloud task; say so, or users think it was undone.
			return fmt.Errorf("interrupted while waiting for %s: task %s keeps running in the cloud; check with `kubectl ack-rrsa status`: %w", what, taskID, err)
		}
		return err
	}
	if st := strings.ToLower(final.State); st != cloud.TaskStateSuccess && st != "succeed" {
		p.finish()
		fe := &taskFailedError{what: what, taskID: taskID, state: final.State, message: final.Error}
		// The logs are best effort: the task error alone still explains the failure.
		if logs, lerr := s.clients.CS.DescribeClusterLogs(context.WithoutCancel(ctx), s.clusterID); lerr == nil {
			for _, l := range logs {
				if l.Created.IsZero() || l.Created.After(started) {
					fe.logs = append(fe.logs, l)
				}
			}
		}
		return fe
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
	})
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out after %s waiting for cluster %s to be running again; raise --timeout or check the cluster in the console", w.timeout, s.clusterID)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("interrupted while waiting for cluster %s to be running again (task %s has finished); check with `kubectl ack-rrsa status`: %w", s.clusterID, taskID, err)
	}
	return err
}
