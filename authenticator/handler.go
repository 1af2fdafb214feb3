package authenticator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// MaxBodyBytes bounds a TokenReview request body: tokens are at most 4 KiB.
const MaxBodyBytes = 64 << 10

// TokenReview API versions answered (the answer echoes the request's).
const (
	APIVersionV1      = "authentication.k8s.io/v1"
	APIVersionV1beta1 = "authentication.k8s.io/v1beta1"
	KindTokenReview   = "TokenReview"
)

// tokenReview is the wire form shared by authentication.k8s.io v1 and v1beta1.
type tokenReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Spec       tokenReviewSpec    `json:"spec"`
	Status     *tokenReviewStatus `json:"status,omitempty"`
}

// tokenReviewSpec omits spec.audiences on purpose: see the answer's audiences below.
type tokenReviewSpec struct {
	Token string `json:"token"`
}

type tokenReviewStatus struct {
	Authenticated bool  `json:"authenticated"`
	User          *User `json:"user,omitempty"`
	// No audiences field: the answer never claims one (see authenticate).
	Error string `json:"error,omitempty"`
}

func (h *Handler) getBuf() *bytes.Buffer {
	if b, ok := h.bufs.Get().(*bytes.Buffer); ok {
		return b
	}
	return bytes.NewBuffer(make([]byte, 0, 4096))
}

func (h *Handler) putBuf(b *bytes.Buffer) {
	// Do not keep the rare huge buffer.
	if b.Cap() <= 2*MaxBodyBytes {
		h.bufs.Put(b)
	}
}

// ReadyFunc reports whether the server is ready, and why not.
type ReadyFunc func() error

// Handler serves /authenticate, /healthz, /readyz and /metrics.
type Handler struct {
	auth    *Authenticator
	metrics *Metrics
	ready   ReadyFunc
	mux     *http.ServeMux
	// bufs recycles request and answer buffers of /authenticate.
	bufs sync.Pool
	// scrub redacts server.scrubbedAccounts from the request logs.
	scrub scrubber
}

// NewHandler builds the HTTP handler. ready may be nil (always ready).
func NewHandler(auth *Authenticator, metrics *Metrics, ready ReadyFunc) *Handler {
	h := &Handler{auth: auth, metrics: metrics, ready: ready, mux: http.NewServeMux()}
	auth.cache.obs = cacheObserver{metrics}
	h.mux.HandleFunc("/authenticate", h.authenticate)
	h.mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { plain(w, http.StatusOK, "ok") })
	h.mux.HandleFunc("/readyz", h.readyz)
	h.mux.Handle("/metrics", metrics.Handler())
	return h
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, msg)
}

func (h *Handler) readyz(w http.ResponseWriter, _ *http.Request) {
	if h.ready != nil {
		if err := h.ready(); err != nil {
			plain(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	plain(w, http.StatusOK, "ok")
}

func (h *Handler) badRequest(w http.ResponseWriter, start time.Time, status int, msg string) {
	h.metrics.request(ResultBad, time.Since(start))
	klog.V(1).InfoS("bad TokenReview request", "status", status, "message", msg)
	plain(w, status, msg)
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.badRequest(w, start, http.StatusMethodNotAllowed, "use POST with a TokenReview body")
		return
	}
	buf := h.getBuf()
	defer h.putBuf(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, MaxBodyBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.badRequest(w, start, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		h.badRequest(w, start, http.StatusBadRequest, "could not read the request body")
		return
	}
	var tr tokenReview
	if err := json.Unmarshal(buf.Bytes(), &tr); err != nil {
		h.badRequest(w, start, http.StatusBadRequest, "request body is not a JSON TokenReview")
		return
	}
	if tr.APIVersion != APIVersionV1 && tr.APIVersion != APIVersionV1beta1 || tr.Kind != KindTokenReview {
		h.badRequest(w, start, http.StatusBadRequest, fmt.Sprintf("expected kind TokenReview with apiVersion %s or %s, got kind %q apiVersion %q", APIVersionV1, APIVersionV1beta1, tr.Kind, tr.APIVersion))
		return
	}
	o := h.auth.Authenticate(r.Context(), tr.Spec.Token)
	logOutcome(h.scrub.outcome(o), tr.APIVersion)
	resp := tokenReview{APIVersion: tr.APIVersion, Kind: KindTokenReview, Status: &tokenReviewStatus{}}
	result := ResultAllowed
	if o.User != nil {
		resp.Status.Authenticated = true
		resp.Status.User = o.User
		// status.audiences stays empty: a k8s-ack-v2 token names no audience, so echoing
		// spec.audiences would let any token pass as minted for e.g. Vault or kube-rbac-proxy.
		// Empty tells kube-apiserver to apply its own audience rules.
	} else {
		resp.Status.Error = o.Reason
		h.metrics.denial(o.ReasonCode)
		result = ResultDenied
		if o.HTTPStatus == http.StatusTooManyRequests {
			result = ResultThrottled
			// The API server's webhook client retries 429 answers with backoff.
			w.Header().Set("Retry-After", "1")
		}
	}
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(resp); err != nil {
		klog.ErrorS(err, "encode TokenReview answer")
		plain(w, http.StatusInternalServerError, "could not encode the answer")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(o.HTTPStatus)
	_, _ = w.Write(buf.Bytes())
	h.metrics.request(result, time.Since(start))
}
