package emulator

import (
	"strconv"
	"strings"
)

// The CS calls in this file are the ones ack-ram-tool's rrsa commands make besides those of
// cs.go: the deprecated cluster list its `rrsa demo` uses, the add-on versions it polls while
// installing ack-pod-identity-webhook, and the task list `kubectl ack-rrsa status` shows.

// csDescribeClusters answers the deprecated GET /clusters: a JSON array of cluster details,
// filtered by the optional name (substring) and clusterType query parameters.
func (s *Server) csDescribeClusters(req *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []map[string]any{}
	for _, id := range s.clusterOrder {
		c := s.clusters[id]
		if c.AccountID != req.caller.AccountID ||
			!strings.Contains(c.Name, req.params["name"]) ||
			(req.params["clusterType"] != "" && req.params["clusterType"] != c.ClusterType) {
			continue
		}
		out = append(out, s.clusterJSON(c))
	}
	return out, nil
}

// csAddonsVersion answers DescribeClusterAddonsVersion: every add-on the cluster can have, keyed
// by name, with its installed version ("" when not installed, which is how clients tell).
// Besides the documented component_name it carries name, which ack-ram-tool reads.
func (s *Server) csAddonsVersion(req *request, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	installed := map[string]string{}
	for _, a := range c.Addons {
		installed[a.Name] = a.Version
	}
	names := sortedKeys(knownAddons)
	for name := range installed {
		if _, ok := knownAddons[name]; !ok {
			names = append(names, name)
		}
	}
	out := map[string]any{}
	for _, name := range names {
		version, latest := installed[name], knownAddons[name]
		next := latest
		if version == latest {
			next = ""
		}
		out[name] = map[string]any{
			"component_name": name, "name": name, "version": version, "next_version": next,
			"can_upgrade": version != "" && next != "", "changed": "false", "exist": latest != "",
			"required": false, "policy": "overwrite", "ready_to_upgrade": "true", "message": "",
		}
	}
	return out, nil
}

// csDescribeClusterTasks answers DescribeClusterTasks: the cluster's tasks, newest first, paged.
func (s *Server) csDescribeClusterTasks(req *request, id string) (any, *apiError) {
	page, size, e := pageParams(req, 10, 50)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.clusterFor(req, id); e != nil {
		return nil, e
	}
	all := s.clusterTasks(id)
	start := min((page-1)*size, len(all))
	end := min(start+size, len(all))
	tasks := []map[string]any{}
	for _, t := range all[start:end] {
		item := map[string]any{
			"task_id": t.id, "task_type": t.typ, "state": t.state,
			"created": fmtCSTime(t.created), "updated": fmtCSTime(t.updated),
		}
		if t.state == taskFail {
			item["error"] = map[string]any{"code": "TaskFailed", "message": t.errMsg}
		}
		tasks = append(tasks, item)
	}
	return map[string]any{
		"tasks":     tasks,
		"page_info": map[string]any{"page_number": page, "page_size": size, "total_count": len(all)},
		"requestId": req.reqID,
	}, nil
}

// pageParams reads page_number and page_size (1-based; size in 1..maxSize).
func pageParams(req *request, defSize, maxSize int) (page, size int, e *apiError) {
	page, size = 1, defSize
	if v := req.params["page_number"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, newErr(400, "InvalidParameter", "page_number must be a positive integer.")
		}
		page = n
	}
	if v := req.params["page_size"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSize {
			return 0, 0, newErr(400, "InvalidParameter", "page_size must be between 1 and %d.", maxSize)
		}
		size = n
	}
	return page, size, nil
}
