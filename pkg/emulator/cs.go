package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// knownAddons are the add-ons InstallClusterAddons accepts, with their latest version.
var knownAddons = map[string]string{
	"ack-pod-identity-webhook": "0.2.2",
	"ack-ram-authenticator":    "0.3.0",
	"metrics-server":           "v0.7.2-aliyun.1",
	"coredns":                  "v1.11.3.2-f57ea7ed6-aliyun",
	"csi-plugin":               "v1.32.1-aliyun.1",
	"csi-provisioner":          "v1.32.1-aliyun.1",
	"terway-eniip":             "v1.13.5",
	"nginx-ingress-controller": "v1.11.5-aliyun.1",
	"logtail-ds":               "v1.7.1.0-aliyun",
}

type csRoute struct {
	action string
	id     string // cluster or task id from the path
	extra  string
}

// routeCS maps a ROA method and path to a CS action.
func routeCS(method, path string) (csRoute, bool) {
	seg := strings.Split(strings.Trim(path, "/"), "/")
	n := len(seg)
	switch {
	case method == "GET" && n == 2 && seg[0] == "clusters":
		return csRoute{action: "DescribeClusterDetail", id: seg[1]}, true
	case method == "GET" && n == 3 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "clusters":
		return csRoute{action: "DescribeClustersV1"}, true
	case method == "PUT" && n == 4 && seg[0] == "api" && seg[1] == "v2" && seg[2] == "clusters":
		return csRoute{action: "ModifyCluster", id: seg[3]}, true
	case method == "GET" && n == 2 && seg[0] == "tasks":
		return csRoute{action: "DescribeTaskInfo", id: seg[1]}, true
	case method == "GET" && n == 3 && seg[0] == "k8s" && seg[2] == "user_config":
		return csRoute{action: "DescribeClusterUserKubeconfig", id: seg[1]}, true
	case method == "GET" && n == 3 && seg[0] == "clusters" && seg[2] == "logs":
		return csRoute{action: "DescribeClusterLogs", id: seg[1]}, true
	case method == "GET" && n == 4 && seg[0] == "clusters" && seg[2] == "components" && seg[3] == "version":
		return csRoute{action: "DescribeClusterAddonsVersion", id: seg[1]}, true
	case method == "GET" && n == 1 && seg[0] == "clusters":
		return csRoute{action: "DescribeClusters"}, true
	case method == "GET" && n == 3 && seg[0] == "clusters" && seg[2] == "tasks":
		return csRoute{action: "DescribeClusterTasks", id: seg[1]}, true
	case method == "GET" && n == 3 && seg[0] == "clusters" && seg[2] == "addon_instances":
		return csRoute{action: "ListClusterAddonInstances", id: seg[1]}, true
	case method == "POST" && n == 4 && seg[0] == "clusters" && seg[2] == "components" && seg[3] == "install":
		return csRoute{action: "InstallClusterAddons", id: seg[1]}, true
	case method == "GET" && n == 5 && seg[0] == "clusters" && seg[2] == "components" && seg[4] == "instance":
		return csRoute{action: "DescribeClusterAddonInstance", id: seg[1], extra: seg[3]}, true
	}
	return csRoute{}, false
}

func (s *Server) serveCS(req *request) (any, *apiError) {
	rt, ok := routeCS(req.r.Method, req.r.URL.Path)
	if !ok {
		return nil, newErr(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	}
	req.action = rt.action
	req.params = map[string]string{}
	for k, vs := range req.r.URL.Query() {
		req.params[k] = vs[0]
	}
	caller, e := s.authenticate(req)
	if e != nil {
		return nil, e
	}
	req.caller = caller
	s.countCall(ServiceCS, rt.action)
	switch rt.action {
	case "DescribeClusterDetail":
		return s.csDescribeClusterDetail(req, rt.id)
	case "DescribeClustersV1":
		return s.csDescribeClustersV1(req)
	case "ModifyCluster":
		return s.csModifyCluster(req, rt.id)
	case "DescribeTaskInfo":
		return s.csDescribeTaskInfo(req, rt.id)
	case "DescribeClusterUserKubeconfig":
		return s.csUserKubeconfig(req, rt.id)
	case "DescribeClusterLogs":
		return s.csDescribeClusterLogs(req, rt.id)
	case "DescribeClusterAddonsVersion":
		return s.csAddonsVersion(req, rt.id)
	case "ListClusterAddonInstances":
		return s.csListAddonInstances(req, rt.id)
	case "InstallClusterAddons":
		return s.csInstallAddons(req, rt.id)
	case "DescribeClusterAddonInstance":
		return s.csDescribeAddonInstance(req, rt.id, rt.extra)
	case "DescribeClusters":
		return s.csDescribeClusters(req)
	case "DescribeClusterTasks":
		return s.csDescribeClusterTasks(req, rt.id)
	}
	return nil, newErr(404, "InvalidAction.NotFound", "Specified api is not found.")
}

// clusterFor returns the cluster if the caller's account owns it. Caller holds s.mu.
func (s *Server) clusterFor(req *request, id string) (*Cluster, *apiError) {
	c, ok := s.clusters[id]
	if !ok || c.AccountID != req.caller.AccountID {
		return nil, newErr(404, "ErrorClusterNotFound", "The specified cluster %s is not found.", id)
	}
	return c, nil
}

func (s *Server) clusterJSON(c *Cluster) map[string]any {
	rrsa := map[string]any{"enabled": c.RRSA.Enabled}
	if c.RRSA.Enabled {
		rrsa["issuer"] = c.RRSA.Issuer
		rrsa["audience"] = c.RRSA.Audience
		rrsa["oidc_name"] = c.RRSA.OIDCName
		rrsa["oidc_arn"] = c.RRSA.OIDCArn
		rrsa["jwks_url"] = strings.TrimSuffix(strings.Split(c.RRSA.Issuer, ",")[0], "/") + "/keys.json"
		rrsa["discovery_url"] = strings.TrimSuffix(strings.Split(c.RRSA.Issuer, ",")[0], "/") + "/.well-known/openid-configuration"
	}
	meta, _ := json.Marshal(map[string]any{
		"RRSAConfig":        rrsa,
		"KubernetesVersion": c.Version,
		"Capabilities":      map[string]any{"Network": "terway-eniip"},
	})
	intranet := c.IntranetAPIServerURL
	if intranet == "" {
		intranet = c.APIServerURL
	}
	master, _ := json.Marshal(map[string]string{
		"api_server_endpoint":          c.APIServerURL,
		"intranet_api_server_endpoint": intranet,
	})
	created := fmtCSTime(s.started)
	return map[string]any{
		"cluster_id":          c.ID,
		"name":                c.Name,
		"region_id":           c.RegionID,
		"state":               c.State,
		"cluster_type":        c.ClusterType,
		"cluster_spec":        "ack.pro.small",
		"profile":             "Default",
		"current_version":     c.Version,
		"init_version":        c.Version,
		"meta_data":           string(meta),
		"master_url":          string(master),
		"created":             created,
		"updated":             created,
		"deletion_protection": false,
		"network_mode":        "vpc",
		"size":                int64(3),
		"vpc_id":              "vpc-emulator",
		"zone_id":             c.RegionID + "-h",
		"resource_group_id":   "rg-emulator",
	}
}

func fmtCSTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) csDescribeClusterDetail(req *request, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	return s.clusterJSON(c), nil
}

func (s *Server) csDescribeClustersV1(req *request) (any, *apiError) {
	page, size := 1, 10
	if v := req.params["page_number"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, newErr(400, "InvalidParameter", "page_number must be a positive integer.")
		}
		page = n
	}
	if v := req.params["page_size"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, newErr(400, "InvalidParameter", "page_size must be between 1 and 100.")
		}
		size = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []map[string]any
	for _, id := range s.clusterOrder {
		c := s.clusters[id]
		if c.AccountID != req.caller.AccountID {
			continue
		}
		if v := req.params["region_id"]; v != "" && v != c.RegionID {
			continue
		}
		if v := req.params["cluster_id"]; v != "" && v != c.ID {
			continue
		}
		if v := req.params["name"]; v != "" && !strings.Contains(c.Name, v) {
			continue
		}
		if v := req.params["cluster_type"]; v != "" && v != c.ClusterType {
			continue
		}
		all = append(all, s.clusterJSON(c))
	}
	start := min((page-1)*size, len(all))
	end := min(start+size, len(all))
	clusters := all[start:end]
	if clusters == nil {
		clusters = []map[string]any{}
	}
	return map[string]any{
		"clusters":  clusters,
		"page_info": map[string]any{"page_number": page, "page_size": size, "total_count": len(all)},
	}, nil
}

// appendLog adds a cluster log line. Caller holds s.mu.
func (s *Server) appendLog(c *Cluster, level, msg string) { s.appendLogAt(c, s.now(), level, msg) }

func (s *Server) csModifyCluster(req *request, id string) (any, *apiError) {
	var body map[string]json.RawMessage
	if len(req.body) > 0 {
		if err := json.Unmarshal(req.body, &body); err != nil {
			return nil, newErr(400, "InvalidParameter", "The request body is not a JSON object: %v", err)
		}
	}
	var enable *bool
	if raw, ok := body["enable_rrsa"]; ok {
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, newErr(400, "InvalidParameter", "enable_rrsa must be a boolean.")
		}
		enable = &b
	}
	var name *string
	if raw, ok := body["cluster_name"]; ok {
		var n string
		if err := json.Unmarshal(raw, &n); err != nil || n == "" {
			return nil, newErr(400, "InvalidParameter", "cluster_name must be a non-empty string.")
		}
		name = &n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	describe := "modify cluster"
	if enable != nil {
		if *enable {
			describe = "enable RRSA"
		} else {
			describe = "disable RRSA"
		}
	}
	t, e := s.startTask(c, "cluster_update", describe, func(c *Cluster) {
		if name != nil {
			c.Name = *name
		}
		if enable != nil {
			if *enable {
				c.RRSA.Enabled = true
				fillRRSA(c)
				s.registerRRSAProvider(c)
			} else {
				c.RRSA = RRSAConfig{}
			}
		}
	})
	if e != nil {
		return nil, e
	}
	return map[string]any{"cluster_id": c.ID, "request_id": req.reqID, "task_id": t.id}, nil
}

func (s *Server) csDescribeTaskInfo(req *request, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if ok {
		if c := s.clusters[t.clusterID]; c == nil || c.AccountID != req.caller.AccountID {
			ok = false
		}
	}
	if !ok {
		return nil, newErr(404, "ErrorTaskNotFound", "The specified task %s is not found.", id)
	}
	out := map[string]any{
		"task_id":       t.id,
		"cluster_id":    t.clusterID,
		"task_type":     t.typ,
		"state":         t.state,
		"created":       fmtCSTime(t.created),
		"updated":       fmtCSTime(t.updated),
		"current_stage": t.describe,
		"target":        map[string]any{"id": t.clusterID, "type": "cluster"},
		"task_result":   []any{map[string]any{"data": t.describe, "status": t.state}},
	}
	if t.state == taskFail {
		out["error"] = map[string]any{"code": "TaskFailed", "message": t.errMsg}
	}
	return out, nil
}

func (s *Server) csDescribeClusterLogs(req *request, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	out := []any{}
	// Newest first, like the service.
	for i := len(c.Logs) - 1; i >= 0; i-- {
		l := c.Logs[i]
		out = append(out, map[string]any{"ID": l.ID, "cluster_id": c.ID, "cluster_log": l.Message, "created": l.Created, "updated": l.Created})
	}
	return out, nil
}

// kubeconfig is the subset of a kubeconfig file the CS API returns.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
	Preferences    struct{}       `json:"preferences"`
	Users          []namedUser    `json:"users"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		Server                   string `json:"server"`
		CertificateAuthorityData string `json:"certificate-authority-data,omitempty"`
	} `json:"cluster"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster string `json:"cluster"`
		User    string `json:"user"`
	} `json:"context"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		ClientCertificateData string `json:"client-certificate-data"`
		ClientKeyData         string `json:"client-key-data"`
	} `json:"user"`
}

// maxKubeconfigValidity is the validity of a non-temporary kubeconfig (three years).
const maxKubeconfigValidity = 3 * 365 * 24 * time.Hour

func (s *Server) csUserKubeconfig(req *request, id string) (any, *apiError) {
	validity := maxKubeconfigValidity
	if v := req.params["TemporaryDurationMinutes"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 15 || n > 4320 {
			return nil, newErr(400, "InvalidParameter", "TemporaryDurationMinutes must be between 15 and 4320.")
		}
		validity = time.Duration(n) * time.Minute
	}
	private := strings.EqualFold(req.params["PrivateIpAddress"], "true")
	s.mu.Lock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		s.mu.Unlock()
		return nil, e
	}
	cc := copyCluster(c)
	ca := s.clientCAs[id]
	s.mu.Unlock()

	server := cc.APIServerURL
	if private && cc.IntranetAPIServerURL != "" {
		server = cc.IntranetAPIServerURL
	}
	now := s.now()
	exp := now.Add(validity).UTC().Truncate(time.Second)
	cn := req.caller.PrincipalID()
	client, err := ca.IssueClient(cn, nil, now.Add(-5*time.Minute), exp)
	if err != nil {
		return nil, newErr(500, "InternalError", "issue client certificate: %v", err)
	}
	kc := kubeconfig{APIVersion: "v1", Kind: "Config"}
	ctxName := cc.AccountID + "-" + cc.ID
	nc := namedCluster{Name: "kubernetes"}
	nc.Cluster.Server = server
	if cc.APIServerCAFile != "" {
		b, err := os.ReadFile(cc.APIServerCAFile)
		if err != nil {
			return nil, newErr(500, "InternalError", "read API server CA: %v", err)
		}
		nc.Cluster.CertificateAuthorityData = base64.StdEncoding.EncodeToString(b)
	}
	nctx := namedContext{Name: ctxName}
	nctx.Context.Cluster, nctx.Context.User = "kubernetes", cn
	nu := namedUser{Name: cn}
	nu.User.ClientCertificateData = base64.StdEncoding.EncodeToString(client.CertPEM)
	nu.User.ClientKeyData = base64.StdEncoding.EncodeToString(client.KeyPEM)
	kc.Clusters, kc.Contexts, kc.Users, kc.CurrentContext = []namedCluster{nc}, []namedContext{nctx}, []namedUser{nu}, ctxName
	y, err := yaml.Marshal(kc)
	if err != nil {
		return nil, newErr(500, "InternalError", "encode kubeconfig: %v", err)
	}
	return map[string]any{"config": string(y), "expiration": exp.Format(rpcTimeFormat)}, nil
}

func (s *Server) csListAddonInstances(req *request, id string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	list := []any{}
	for _, a := range c.Addons {
		list = append(list, map[string]any{"name": a.Name, "version": a.Version, "state": a.State})
	}
	return map[string]any{"addons": list}, nil
}

func (s *Server) csDescribeAddonInstance(req *request, id, name string) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	for _, a := range c.Addons {
		if a.Name == name {
			return map[string]any{"addon_name": a.Name, "version": a.Version, "state": a.State, "config": a.Config}, nil
		}
	}
	return nil, newErr(404, "AddonNotFound", "The add-on %s is not installed in cluster %s.", name, id)
}

func (s *Server) csInstallAddons(req *request, id string) (any, *apiError) {
	var items []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Config  string `json:"config"`
	}
	if err := json.Unmarshal(req.body, &items); err != nil || len(items) == 0 {
		return nil, newErr(400, "InvalidParameter", "The body must be a non-empty JSON array of {name, version, config}.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.clusterFor(req, id)
	if e != nil {
		return nil, e
	}
	var install []AddonInstance
	var names []string
	for _, it := range items {
		latest, ok := knownAddons[it.Name]
		if !ok {
			return nil, newErr(400, "AddonNotFound", "The add-on %q is not available.", it.Name)
		}
		for _, a := range c.Addons {
			if a.Name == it.Name {
				return nil, newErr(400, "AddonAlreadyInstalled", "The add-on %s is already installed.", it.Name)
			}
		}
		if it.Config != "" && !json.Valid([]byte(it.Config)) {
			return nil, newErr(400, "InvalidParameter", "The config of add-on %s is not valid JSON.", it.Name)
		}
		v := it.Version
		if v == "" {
			v = latest
		}
		install = append(install, AddonInstance{Name: it.Name, Version: v, State: "active", Config: it.Config})
		names = append(names, it.Name)
	}
	t, e := s.startTask(c, "cluster_addon_install", fmt.Sprintf("install add-ons %s", strings.Join(names, ",")), func(c *Cluster) {
		c.Addons = append(c.Addons, install...)
	})
	if e != nil {
		return nil, e
	}
	return map[string]any{"cluster_id": c.ID, "request_id": req.reqID, "task_id": t.id}, nil
}
