package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// serveAdmin handles /_emulator/ endpoints, authorised by the AdminHeader token.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(AdminHeader)), []byte(s.admin)) != 1 {
		adminError(w, http.StatusUnauthorized, "missing or wrong "+AdminHeader+" header")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		adminError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	p := r.URL.Path
	switch {
	case p == "/_emulator/info" && r.Method == http.MethodGet:
		writeJSON(w, 200, "", s.Info())
	case p == "/_emulator/calls" && r.Method == http.MethodGet:
		writeJSON(w, 200, "", s.AllCalls())
	case strings.HasPrefix(p, "/_emulator/faults/") && r.Method == http.MethodPut:
		svc := faultServiceFromPath(p)
		if !validService(svc) {
			adminError(w, http.StatusNotFound, "unknown service "+svc+" (want sts, ram or cs)")
			return
		}
		var f Fault
		if err := json.Unmarshal(body, &f); err != nil {
			adminError(w, http.StatusBadRequest, "fault: "+err.Error())
			return
		}
		s.SetFault(svc, f)
		writeJSON(w, 200, "", f)
	case strings.HasPrefix(p, "/_emulator/clusters/") && r.Method == http.MethodPatch:
		id := strings.TrimPrefix(p, "/_emulator/clusters/")
		var patchErr error
		err := s.UpdateCluster(id, func(c *Cluster) {
			patchErr = json.Unmarshal(body, c)
		})
		if err != nil {
			adminError(w, http.StatusNotFound, err.Error())
			return
		}
		if patchErr != nil {
			adminError(w, http.StatusBadRequest, "cluster patch: "+patchErr.Error())
			return
		}
		c, _ := s.Cluster(id)
		writeJSON(w, 200, "", c)
	case p == "/_emulator/clusters" && r.Method == http.MethodPost:
		s.adminAddCluster(w, body)
	case strings.HasPrefix(p, "/_emulator/clusters/") && r.Method == http.MethodDelete:
		s.adminDeleteCluster(w, strings.TrimPrefix(p, "/_emulator/clusters/"))
	case p == "/_emulator/users" && r.Method == http.MethodPost:
		var in struct {
			AccountID string `json:"accountId"`
			Name      string `json:"name"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
			adminError(w, http.StatusBadRequest, `body must be {"accountId":..., "name":...}`)
			return
		}
		if in.AccountID == "" {
			in.AccountID = s.Info().AccountID
		}
		u, ak, err := s.CreateUser(in.AccountID, in.Name)
		if err != nil {
			adminError(w, http.StatusConflict, err.Error())
			return
		}
		writeJSON(w, 200, "", map[string]string{
			"accountId": u.AccountID, "userName": u.Name, "userId": u.UserID, "arn": u.ARN,
			"accessKeyId": ak.ID, "accessKeySecret": ak.Secret,
		})
	default:
		adminError(w, http.StatusNotFound, "unknown admin endpoint "+r.Method+" "+p)
	}
}

// adminAddCluster adds the cluster in body (JSON Cluster; accountId defaults to the first account).
func (s *Server) adminAddCluster(w http.ResponseWriter, body []byte) {
	var c Cluster
	if err := json.Unmarshal(body, &c); err != nil {
		adminError(w, http.StatusBadRequest, "cluster: "+err.Error())
		return
	}
	if c.AccountID == "" {
		c.AccountID = s.Info().AccountID
	}
	if err := s.AddCluster(c); err != nil {
		adminError(w, http.StatusConflict, err.Error())
		return
	}
	added, _ := s.Cluster(c.ID)
	writeJSON(w, 200, "", added)
}

func (s *Server) adminDeleteCluster(w http.ResponseWriter, id string) {
	if err := s.DeleteCluster(id); err != nil {
		adminError(w, http.StatusNotFound, err.Error())
		return
	}
	writeJSON(w, 200, "", map[string]string{})
}

func adminError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, "", map[string]string{"error": msg})
}
