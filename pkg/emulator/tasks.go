package emulator

import (
	"sort"
	"time"
)

// Task states as DescribeTaskInfo reports them.
const (
	taskRunning = "running"
	taskSuccess = "success"
	taskFail    = "fail"
)

// defaultTaskDuration is how long a cluster task runs when the seed does not say.
const defaultTaskDuration = 2 * time.Second

// task is an asynchronous CS operation (ModifyCluster enable_rrsa, InstallClusterAddons). It
// finishes when the emulator's clock passes due, whatever (and whether) clients poll.
type task struct {
	id, clusterID, typ string
	due                time.Time
	fail               bool
	state              string // taskRunning, taskSuccess, taskFail
	errMsg             string
	created, updated   time.Time
	describe           string
	apply              func(c *Cluster)
}

// taskDuration is how long a task on c runs: TaskDuration, else (older seeds) one second per
// TaskPolls, else defaultTaskDuration.
func taskDuration(c *Cluster) time.Duration {
	switch {
	case c.TaskDuration > 0:
		return time.Duration(c.TaskDuration)
	case c.TaskPolls > 0:
		return time.Duration(c.TaskPolls) * time.Second
	}
	return defaultTaskDuration
}

// startTask creates a task on a running cluster and puts the cluster in "updating". Caller holds s.mu.
func (s *Server) startTask(c *Cluster, typ, describe string, apply func(*Cluster)) (*task, *apiError) {
	if c.State != "running" {
		return nil, newErr(400, "ErrorClusterStatus", "The cluster %s is in state %q; wait until it is running.", c.ID, c.State)
	}
	hex, err := randomHex(12)
	if err != nil {
		return nil, newErr(500, "InternalError", "%v", err)
	}
	now := s.now()
	t := &task{id: "T-" + hex, clusterID: c.ID, typ: typ, due: now.Add(taskDuration(c)), fail: c.FailNextTask,
		state: taskRunning, created: now, updated: now, describe: describe, apply: apply}
	c.FailNextTask = false
	c.State = "updating"
	s.tasks[t.id] = t
	s.appendLog(c, "INFO", "Start to "+describe+" (task "+t.id+")")
	return t, nil
}

// settleTasks finishes every running task whose time has come, oldest first. Every API request
// and every state accessor calls it, so a task's effect is visible to whatever a client looks
// at, as with the real service. Caller holds s.mu.
func (s *Server) settleTasks() {
	now := s.now()
	var due []*task
	for _, t := range s.tasks {
		if t.state == taskRunning && !now.Before(t.due) {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].due.Before(due[j].due) })
	for _, t := range due {
		s.finishTask(t)
	}
}

// finishTask ends a task at its due time. Caller holds s.mu.
func (s *Server) finishTask(t *task) {
	t.updated = t.due
	c := s.clusters[t.clusterID]
	if c == nil {
		t.state, t.errMsg = taskFail, "cluster deleted"
		return
	}
	c.State = "running"
	if t.fail {
		t.state = taskFail
		t.errMsg = "emulated failure: " + t.describe + " failed"
		s.appendLogAt(c, t.due, "ERROR", "Failed to "+t.describe+": "+t.errMsg)
		return
	}
	t.apply(c)
	t.state = taskSuccess
	s.appendLogAt(c, t.due, "INFO", "Succeeded to "+t.describe)
}

// clusterTasks returns the tasks of a cluster, newest first. Caller holds s.mu.
func (s *Server) clusterTasks(clusterID string) []*task {
	var out []*task
	for _, t := range s.tasks {
		if t.clusterID == clusterID {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].created.Equal(out[j].created) {
			return out[i].created.After(out[j].created)
		}
		return out[i].id > out[j].id
	})
	return out
}

// appendLogAt adds a cluster log line written at time at. Caller holds s.mu.
func (s *Server) appendLogAt(c *Cluster, at time.Time, level, msg string) {
	s.logSeq++
	c.Logs = append(c.Logs, ClusterLog{ID: s.logSeq, Created: fmtCSTime(at), Message: "[" + level + "] " + msg})
}
