package emulator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubectl-ack/kubectl-ack/pkg/atomicfile"
	"github.com/kubectl-ack/kubectl-ack/pkg/pki"
)

// maxBody bounds request bodies; the real gateways reject much smaller bodies for these APIs.
const maxBody = 1 << 20

// Start listens on Config.Addr and serves in the background until Close or ctx is done.
func (s *Server) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("emulator listen on %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: the "down" fault hijacks the connection, which HTTP/2 cannot do.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{s.cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.mu.Lock()
	s.info = s.buildInfo(ln.Addr().String())
	s.mu.Unlock()
	if s.cfg.StateDir != "" {
		b, err := json.Marshal(s.Info())
		if err != nil {
			return fmt.Errorf("encode info: %w", err)
		}
		if err := atomicfile.Write(filepath.Join(s.cfg.StateDir, "info.json"), append(b, '\n')); err != nil {
			_ = ln.Close()
			return err
		}
	}
	go func() {
		err := s.srv.ServeTLS(ln, "", "")
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("emulator serve", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = s.Close()
		case <-s.done:
		}
	}()
	s.log.Info("emulator listening", "endpoint", s.info.Endpoint)
	return nil
}

// Close stops the listener, waits briefly for in-flight requests and removes temporary files.
func (s *Server) Close() error {
	s.closed.Do(func() {
		close(s.done)
		if s.srv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := s.srv.Shutdown(ctx); err != nil {
				_ = s.srv.Close()
			}
		}
		if s.tempDir {
			// Keep the CA file if it is the caller's; everything else in a temp work dir is ours.
			s.closeErr = removeAll(s.workDir)
		}
	})
	return s.closeErr
}

// Info returns the connection details; valid after Start.
func (s *Server) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Endpoint returns "127.0.0.1:PORT"; valid after Start.
func (s *Server) Endpoint() string { return s.Info().Endpoint }

// CA returns the CA that signed the serving certificate.
func (s *Server) CA() *pki.CA { return s.ca }

func (s *Server) buildInfo(addr string) Info {
	in := Info{Endpoint: addr, CAFile: s.caFile, AdminToken: s.admin}
	if len(s.accountOrder) > 0 {
		in.AccountID = s.accountOrder[0]
		a := s.accounts[in.AccountID]
		// The admin is the first user (in seed order) of the first account that has a key.
		for _, k := range s.sortedUserKeys(a.id) {
			u := a.users[strings.ToLower(k.userName)]
			in.AccessKeyID, in.AccessKeySecret, in.UserName, in.UserID = k.id, k.secret, u.Name, u.UserID
			break
		}
	}
	if len(s.clusterOrder) > 0 {
		c := s.clusters[s.clusterOrder[0]]
		in.ClusterID, in.RegionID, in.ServiceAccountIssuer = c.ID, c.RegionID, c.ServiceAccountIssuer
		if len(c.ServiceAccountKeyFiles) > 0 {
			in.ServiceAccountKeyFile = c.ServiceAccountKeyFiles[0]
		}
	}
	return in
}

// sortedUserKeys returns the long-lived user keys of an account in seed order.
func (s *Server) sortedUserKeys(acct string) []*keyRec {
	var out []*keyRec
	for _, u := range s.cfgUserOrder(acct) {
		for _, id := range sortedKeys(s.keys) {
			k := s.keys[id]
			if k.sts == nil && k.accountID == acct && strings.EqualFold(k.userName, u) {
				out = append(out, k)
			}
		}
	}
	return out
}

func (s *Server) cfgUserOrder(acct string) []string {
	var names []string
	if s.cfg.Seed != nil {
		for _, a := range s.cfg.Seed.Accounts {
			if a.ID == acct {
				for _, u := range a.Users {
					names = append(names, u.Name)
				}
			}
		}
	}
	if names == nil {
		for _, k := range sortedKeys(s.accounts[acct].users) {
			names = append(names, s.accounts[acct].users[k].Name)
		}
	}
	return names
}

func (s *Server) now() time.Time { return s.clock() }

// apiError is an error answer of one of the services.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newErr(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// style is how a service shapes its error bodies.
type style int

const (
	stylePOP style = iota // {"RequestId","HostId","Code","Message"}
	styleCS               // {"code","message","requestId","status"}
)

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, st style, reqID string, e *apiError) {
	var body any
	if st == styleCS {
		body = map[string]any{"code": e.Code, "message": e.Message, "requestId": reqID, "status": e.Status}
	} else {
		body = map[string]any{"RequestId": reqID, "HostId": r.Host, "Code": e.Code, "Message": e.Message,
			"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.Code}
	}
	writeJSON(w, e.Status, reqID, body)
}

func writeJSON(w http.ResponseWriter, status int, reqID string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Code":"InternalError","Message":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if reqID != "" {
		w.Header().Set("x-acs-request-id", reqID)
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func newRequestID() string {
	h, _ := randomString(32, "0123456789ABCDEF")
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// request is a parsed API request passed to handlers.
type request struct {
	r       *http.Request
	body    []byte
	service string
	action  string
	style   style
	params  map[string]string // RPC/ACS3: query ∪ form; CS: query
	caller  *principal        // nil for anonymous AssumeRoleWithOIDC
	reqID   string
}

// ServeHTTP routes admin, RPC/ACS3 (STS, RAM) and ROA (CS) requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := newRequestID()
	if strings.HasPrefix(r.URL.Path, "/_emulator/") {
		s.serveAdmin(w, r)
		return
	}
	req := &request{r: r, reqID: reqID}
	status := s.serveAPI(w, req)
	// Never log query strings or headers: they carry signatures and security tokens.
	s.log.Info("request", "method", r.Method, "path", r.URL.Path, "service", req.service, "action", req.action,
		"status", status, "duration", time.Since(start).Round(time.Microsecond), "requestId", reqID)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the hijacker.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveAPI(rw http.ResponseWriter, req *request) int {
	w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
	r := req.r
	if r.URL.Path == "/" {
		req.style = stylePOP
		switch popVersion(r) {
		case "2015-04-01":
			req.service = ServiceSTS
		case "2015-05-01", VersionIMS:
			req.service = ServiceRAM
		default:
			s.writeError(w, r, stylePOP, req.reqID, newErr(400, "InvalidVersion", "Specified parameter Version is not valid."))
			return w.status
		}
	} else {
		req.service, req.style = ServiceCS, styleCS
	}
	if !s.applyFault(w, req) {
		return w.status
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		s.writeError(w, r, req.style, req.reqID, newErr(400, "InvalidParameter", "cannot read request body: %v", err))
		return w.status
	}
	// Cluster tasks progress with the clock, whatever the request is.
	s.mu.Lock()
	s.settleTasks()
	s.mu.Unlock()
	req.body = body
	var resp any
	var apiErr *apiError
	if req.service == ServiceCS {
		resp, apiErr = s.serveCS(req)
	} else {
		resp, apiErr = s.servePOP(req)
	}
	if apiErr != nil {
		s.writeError(w, r, req.style, req.reqID, apiErr)
		return w.status
	}
	status := http.StatusOK
	if sr, ok := resp.(statusResponse); ok {
		status, resp = sr.status, sr.body
	}
	if m, ok := resp.(map[string]any); ok && req.style == stylePOP {
		m["RequestId"] = req.reqID
	}
	writeJSON(w, status, req.reqID, resp)
	return w.status
}

// statusResponse lets a handler pick a non-200 success status (e.g. 202).
type statusResponse struct {
	status int
	body   any
}

// servePOP handles STS and RAM (RPC and ACS3 styles at "/").
func (s *Server) servePOP(req *request) (any, *apiError) {
	params, apiErr := popParams(req)
	if apiErr != nil {
		return nil, apiErr
	}
	req.params = params
	req.action = params["Action"]
	if req.action == "" {
		req.action = req.r.Header.Get("x-acs-action")
	}
	if req.action == "" {
		return nil, newErr(400, "MissingParameter", "The input parameter \"Action\" that is mandatory for processing this request is not supplied.")
	}
	caller, apiErr := s.authenticate(req)
	if apiErr != nil {
		return nil, apiErr
	}
	req.caller = caller
	var h func(*request) (any, *apiError)
	switch {
	case req.service == ServiceSTS:
		h = s.stsHandlers()[req.action]
	case popVersion(req.r) == VersionIMS:
		h = s.imsHandlers()[req.action]
	default:
		h = s.ramHandlers()[req.action]
	}
	if h == nil {
		return nil, newErr(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
	}
	s.countCall(req.service, req.action)
	return h(req)
}

// popVersion is the API version of an RPC or ACS3 request.
func popVersion(r *http.Request) string {
	if v := r.URL.Query().Get("Version"); v != "" {
		return v
	}
	return r.Header.Get("x-acs-version")
}

func (s *Server) countCall(service, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.calls[service]
	if m == nil {
		m = map[string]int{}
		s.calls[service] = m
	}
	m[action]++
}

// popParams merges query and form-body parameters (RPC signs both together).
func popParams(req *request) (map[string]string, *apiError) {
	out := map[string]string{}
	for k, vs := range req.r.URL.Query() {
		if len(vs) != 1 {
			return nil, newErr(400, "InvalidParameter", "parameter %s is repeated", k)
		}
		out[k] = vs[0]
	}
	ct := req.r.Header.Get("Content-Type")
	if len(req.body) > 0 && strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		form, err := parseQuery(string(req.body))
		if err != nil {
			return nil, newErr(400, "InvalidParameter", "malformed form body: %v", err)
		}
		for k, vs := range form {
			if _, dup := out[k]; dup || len(vs) != 1 {
				return nil, newErr(400, "InvalidParameter", "parameter %s is repeated", k)
			}
			out[k] = vs[0]
		}
	}
	return out, nil
}
